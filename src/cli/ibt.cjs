#!/usr/bin/env node
/**
 * The ibt executable (`bin.ibt`; the build copies this file to dist/cli/ibt.cjs): it turns on
 * Node's compile cache, then runs the command line, which the build bundles into one CommonJS
 * file beside it (dist/cli/ibt-main.cjs, from src/cli/main.ts).
 *
 * A run of ibt is short and compiles the bundle every time; with the compile cache (Node 22.1
 * and later) Node keeps V8's code for the bundle on disk and a later run deserializes it instead.
 * Node chooses the place (NODE_COMPILE_CACHE, else a folder under the OS temp dir), checks the
 * cache against the file's content and its own version, and NODE_DISABLE_COMPILE_CACHE=1 turns
 * it off. Where the API is missing the bundle simply compiles. Plain CommonJS, not TypeScript:
 * the cache must be on before the bundle is loaded, so this file is all that compiles first.
 */
"use strict";
const { enableCompileCache } = require("node:module");

if (typeof enableCompileCache === "function") enableCompileCache();
require("./ibt-main.cjs");
