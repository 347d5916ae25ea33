// How the engine module is loaded: a compile that fails is reported as an IbtError that says
// what to do and is not kept, so the next job compiles again; a module handed over with
// useEngineModule is used without any run-time compile, even after or during a failed one; and
// the shipped engine.wasm is the embedded engine. Each test imports a fresh copy of engine.js
// (a query string makes a new module instance), since the loaded module is per instance.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isIbtError } from "../../src/index.js";
import { ENGINE_WASM_BASE64 } from "../../src/rsync/engine-wasm.generated.js";
import { ROOT } from "../support/helpers.js";

type EngineModule = typeof import("../../src/rsync/engine.js");
type Compile = typeof WebAssembly.compile;

let copies = 0;
const freshEngine = async (): Promise<EngineModule> =>
  (await import(new URL(`../../src/rsync/engine.js?copy=${++copies}`, import.meta.url).href)) as EngineModule;

const shippedWasm = (): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(join(ROOT, "dist", "src", "rsync", "engine.wasm")));

/** Runs `body` with WebAssembly.compile replaced by `fake`, counting calls; restores it after. */
async function withCompile(fake: (real: Compile, call: number) => Promise<WebAssembly.Module>, body: (calls: () => number) => Promise<void>): Promise<void> {
  const real = WebAssembly.compile;
  let calls = 0;
  Object.defineProperty(WebAssembly, "compile", { value: (bytes: BufferSource) => fake(real, ++calls).then((m) => m ?? real(bytes)), configurable: true, writable: true });
  try {
    await body(() => calls);
  } finally {
    Object.defineProperty(WebAssembly, "compile", { value: real, configurable: true, writable: true });
  }
}

const refused = (): Promise<never> => Promise.reject(new WebAssembly.CompileError("Wasm code generation disallowed by embedder"));

/** Checks that an engine instance really computes: RabinKarp of empty input is its seed, 1. */
async function works(engine: EngineModule): Promise<void> {
  const e = await engine.acquireEngine();
  assert.equal(e.exports.hash_rabinkarp(0, 0), 1);
  engine.releaseEngine(e);
}

function isCompileRefusal(e: unknown): boolean {
  assert.ok(isIbtError(e, "UNSUPPORTED"), String(e));
  assert.match(e.message, /incremental-backups-tools\/workerd/);
  assert.match(e.message, /useEngineModule/);
  assert.match(String((e.cause as Error).message), /disallowed by embedder/);
  return true;
}

test("a failed compile is an IbtError saying to use the precompiled module, and the next job compiles again", async () => {
  const engine = await freshEngine();
  await withCompile(
    (_, call) => (call === 1 ? refused() : Promise.resolve(undefined as unknown as WebAssembly.Module)),
    async (calls) => {
      await assert.rejects(engine.acquireEngine(), isCompileRefusal);
      assert.equal(calls(), 1);
      await works(engine);
      assert.equal(calls(), 2, "the failure was not kept: a second compile ran and succeeded");
      await works(engine);
      assert.equal(calls(), 2, "a compiled module is kept");
    },
  );
});

test("a failing compile fails every job that waits on it, then is forgotten", async () => {
  const engine = await freshEngine();
  await withCompile(refused, async (calls) => {
    const waiting = await Promise.allSettled([engine.engineModule(), engine.engineModule(), engine.acquireEngine()]);
    assert.deepEqual(waiting.map((w) => w.status), ["rejected", "rejected", "rejected"]);
    assert.equal(calls(), 1, "jobs that start together share one attempt");
    await assert.rejects(engine.engineModule(), isCompileRefusal);
    assert.equal(calls(), 2, "a later job makes a new attempt");
  });
});

test("a module handed over is used without a run-time compile, also after a failed one", async () => {
  const engine = await freshEngine();
  await withCompile(refused, async (calls) => {
    await assert.rejects(engine.acquireEngine(), isCompileRefusal);
    const module = new WebAssembly.Module(shippedWasm());
    engine.useEngineModule(module);
    assert.equal(await engine.engineModule(), module);
    await works(engine);
    assert.equal(calls(), 1, "only the attempt before the hand-over");
  });
});

test("a module handed over while a compile is failing stays in use", async () => {
  const engine = await freshEngine();
  let fail: (e: Error) => void = () => undefined;
  await withCompile(
    () => new Promise((_, reject) => (fail = reject)),
    async () => {
      const inFlight = engine.engineModule();
      const module = new WebAssembly.Module(shippedWasm());
      engine.useEngineModule(module);
      fail(new WebAssembly.CompileError("refused late"));
      await assert.rejects(inFlight, (e) => isIbtError(e, "UNSUPPORTED"));
      assert.equal(await engine.engineModule(), module, "the late failure did not drop the module handed over");
    },
  );
});

test("useEngineModule takes a compiled module, not bytes", async () => {
  const engine = await freshEngine();
  assert.throws(() => engine.useEngineModule(shippedWasm() as unknown as WebAssembly.Module), (e) => isIbtError(e, "BAD_ARGUMENT"));
  await works(engine);
});

test("the shipped engine.wasm is the embedded engine, byte for byte", () => {
  const embedded = Uint8Array.from(atob(ENGINE_WASM_BASE64), (c) => c.charCodeAt(0));
  assert.deepEqual(shippedWasm(), embedded);
});
