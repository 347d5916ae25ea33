// The runtime-shared zstd check (test/shared/zstd-cases.ts) under Node.
import { zstdCases } from "../shared/zstd-cases.js";

zstdCases("Node");
