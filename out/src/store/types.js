import { IbtError } from "../errors.js";
const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
/** Throws UNSAFE_PATH unless `name` is a valid object name (see the contract above). */
export function checkObjectName(name, caller) {
    if (!NAME.test(name) || name.split("/").some((s) => s === "." || s === "..")) {
        throw new IbtError("UNSAFE_PATH", `${caller}: not a valid object name: ${JSON.stringify(name)}`, { path: name, caller });
    }
}
//# sourceMappingURL=types.js.map