/**
 * incremental-backups-tools for runtimes that forbid compiling WebAssembly at run time:
 * Cloudflare Workers (workerd) and other edge runtimes. The same API as the main entry, with the
 * engine taken from the shipped `engine.wasm`, which the runtime (or its bundler: wrangler,
 * esbuild with a `.wasm` loader that yields a compiled module) compiles ahead of time. Importing
 * this entry hands that module to the engine, so no job ever asks for a run-time compile.
 */
import engine from "./rsync/engine.wasm";
import { useEngineModule } from "./rsync/engine.js";

useEngineModule(engine);

export * from "./index.js";
