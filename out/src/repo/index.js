export { Repository } from "./repository.js";
//# sourceMappingURL=index.js.map