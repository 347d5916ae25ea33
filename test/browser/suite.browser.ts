/**
 * Everything the browser suite runs inside the page, in one bundle (made by run.mjs; the library
 * itself is not in it but imported from the browser build, /lib/incremental-backups-tools.js):
 * the engine cases on fixtures Node made with rdiff, the directory round trip in memory and on
 * OPFS through HandleFs, compared with Node's fingerprint, and the HandleFs conformance suite.
 * run.mjs calls `ibtRun` and prints the results as they come.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HandleFs, MemoryFs, signatureOf } from "../../src/index.js";
import { engineCases } from "../shared/engine-cases.js";
import { cryptoCases } from "../shared/crypto-cases.js";
import { zstdCases } from "../shared/zstd-cases.js";
import { assertSameAsReference, directoryRoundTrip, type RoundTripFingerprint } from "../shared/roundtrip-cases.js";
import { freshDir, runHandleFsSuite } from "./fs-handle.browser.js";
import { runCollected, type TestResult } from "./node-test-shim.js";

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Node's round-trip fingerprints: the full fixture, and the smaller one OPFS gets. */
export interface References {
  full: RoundTripFingerprint;
  opfs: { manyFiles: number; fingerprint: RoundTripFingerprint };
}

function pageTests(reference: References): void {
  test("page: the library comes from the browser build, and no Node global is around", async () => {
    const loaded = performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname);
    assert.ok(loaded.includes("/lib/incremental-backups-tools.js"), loaded.join(", "));
    assert.equal(typeof (globalThis as { process?: unknown }).process, "undefined");
    assert.equal(typeof (globalThis as { Buffer?: unknown }).Buffer, "undefined");
    assert.equal(typeof (globalThis as { require?: unknown }).require, "undefined");
    assert.equal(isSecureContext, true, "OPFS needs a secure context");
    assert.equal((await signatureOf(new Uint8Array(100))).length, 12 + 36);
  });

  test("page: directory round trip in memory (MemoryFs) equals Node's", async () => {
    const report = await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() });
    assertSameAsReference(report.fingerprint, reference.full);
  });

  // The same round trip with fewer small files: OPFS takes about 20 ms to write each one.
  test(`page: directory round trip on OPFS (HandleFs, ${reference.opfs.manyFiles} small files) equals Node's on files and directories`, async (t) => {
    const dirs = await Promise.all([freshDir(), freshDir(), freshDir()]);
    try {
      const [source, target, store] = dirs.map(({ dir }) => new HandleFs(dir));
      const report = await directoryRoundTrip({ source: source!, target: target!, store: store!, manyFiles: reference.opfs.manyFiles });
      assert.equal(report.fingerprint.full, undefined, "OPFS keeps no symlinks, modes or mtimes");
      assertSameAsReference(report.fingerprint, reference.opfs.fingerprint);
      t.diagnostic(`OPFS round trip: archive ${report.archiveBytes} bytes for a ${report.treeBytes}-byte tree`);
    } finally {
      for (const { cleanup } of dirs) await cleanup();
    }
  });
}

async function run(reference: References, report: (r: TestResult) => void): Promise<TestResult[]> {
  engineCases((file) => fetchBytes(`/fixtures/engine/${encodeURIComponent(file)}`));
  cryptoCases((file) => fetchBytes(`/fixtures/engine/${encodeURIComponent(file)}`));
  zstdCases("page");
  pageTests(reference);
  const results = await runCollected(report);
  results.push(...(await runHandleFsSuite(report)));
  return results;
}

(globalThis as { ibtRun?: typeof run }).ibtRun = run;
