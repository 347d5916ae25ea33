/**
 * A Worker that imports the main entry without the workerd export condition (run.mjs resolves
 * src/index.js to dist/src/index.js), as a bundler that does not know the condition would: the engine then tries to compile its embedded copy,
 * which workerd refuses. The first job fails with the error that says what to do, a second job
 * tries the compile again (a failure is not kept), and once the Worker hands over the module
 * workerd compiled from the shipped engine.wasm, jobs run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import engine from "../../dist/src/rsync/engine.wasm";
import { isIbtError, signatureOf, useEngineModule } from "../../src/index.js";
import type { EngineFixtures } from "../shared/engine-cases.js";
import { fixture, suiteWorker } from "./harness.js";

function refusal(e: unknown): boolean {
  assert.ok(isIbtError(e, "UNSUPPORTED"), String(e));
  assert.match(e.message, /incremental-backups-tools\/workerd/);
  assert.match(e.message, /useEngineModule/);
  return true;
}

export default suiteWorker((env) => {
  test("workerd: the embedded engine fails with a clear error, is retried, and the precompiled module then works", async () => {
    const real = WebAssembly.compile;
    let attempts = 0;
    Object.defineProperty(WebAssembly, "compile", { value: (bytes: BufferSource) => (attempts++, real(bytes)), configurable: true, writable: true });
    try {
      const data = new TextEncoder().encode("hello from workerd");
      await assert.rejects(signatureOf(data), refusal);
      assert.equal(attempts, 1);
      await assert.rejects(signatureOf(data), refusal);
      assert.equal(attempts, 2, "the failed compile was not kept: the second job tried again");
      useEngineModule(engine);
      const sig = await signatureOf(data);
      assert.equal(attempts, 2, "the module handed over needs no compile");
      assert.equal(sig.length, 12 + 36);
    } finally {
      Object.defineProperty(WebAssembly, "compile", { value: real, configurable: true, writable: true });
    }
  });

  test("workerd: with the module handed over, signatures are rdiff's byte for byte", async () => {
    const { cases } = JSON.parse(new TextDecoder().decode(await fixture(env, "engine/fixtures.json"))) as EngineFixtures;
    for (const c of cases.filter((c) => c.basis === "pair3.basis")) {
      assert.deepEqual(await signatureOf(await fixture(env, `engine/${c.basis}`), c.options), await fixture(env, `engine/${c.name}.sig`), c.name);
    }
  });
});
