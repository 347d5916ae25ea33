/**
 * The workerd suite's main Worker: the library as a Worker gets it, through the package's
 * precompiled-engine entry (run.mjs resolves every import of src/index.js as wrangler resolves
 * `import "incremental-backups-tools"`: the exports map's workerd condition, dist/src/workerd.js),
 * in a runtime that refuses to compile WebAssembly at run time. It runs the engine cases on the
 * fixtures Node made with rdiff, and the directory round trip in memory, compared with Node's.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryFs, signatureOf, MAGIC_RABINKARP_BLAKE2 } from "../../src/index.js";
import { engineCases } from "../shared/engine-cases.js";
import { cryptoCases } from "../shared/crypto-cases.js";
import { zstdCases } from "../shared/zstd-cases.js";
import { assertSameAsReference, directoryRoundTrip, type RoundTripFingerprint } from "../shared/roundtrip-cases.js";
import { fixture, suiteWorker } from "./harness.js";

export interface SuiteInput {
  /** Node's round-trip fingerprint, in memory. */
  reference: RoundTripFingerprint;
}

export default suiteWorker<SuiteInput>((env, { reference }) => {
  test("workerd: run-time compiles are refused here, and the engine runs from the precompiled module", async () => {
    const bytes = await fixture(env, "engine.wasm");
    await assert.rejects(WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>), (e) => e instanceof Error && /disallowed/.test(e.message));
    assert.equal(typeof (globalThis as { process?: unknown }).process, "undefined", "no Node compatibility layer");
    const sig = await signatureOf(new TextEncoder().encode("hello from workerd"));
    assert.equal(new DataView(sig.buffer, sig.byteOffset).getUint32(0), MAGIC_RABINKARP_BLAKE2);
  });

  engineCases((file) => fixture(env, `engine/${file}`));
  cryptoCases((file) => fixture(env, `engine/${file}`));
  zstdCases("workerd");

  test("workerd: directory round trip in memory (MemoryFs) equals Node's", async () => {
    const report = await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() });
    assertSameAsReference(report.fingerprint, reference);
  });
});
