// Under Bun: the directory round trip in memory (MemoryFs) and on disk (NodeFs, through Bun's
// node:fs, in a fresh folder), the same source Node runs, each compared with Node's fingerprint
// made the same way before Bun started.
import { test } from "node:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { MemoryFs } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { assertSameAsReference, directoryRoundTrip } from "../shared/roundtrip-cases.js";
import { freshFolder, reference } from "./work.js";

test("Bun: directory round trip in memory (MemoryFs) equals Node's", async () => {
  const report = await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() });
  assertSameAsReference(report.fingerprint, await reference("memory"));
});

test("Bun: directory round trip on disk (NodeFs) equals Node's", async () => {
  const { dir, cleanup } = await freshFolder();
  try {
    const [source, target, store] = ["source", "target", "store"].map((d) => new NodeFs(join(dir, d)));
    for (const d of ["source", "target", "store"]) await mkdir(join(dir, d));
    const report = await directoryRoundTrip({ source: source!, target: target!, store: store! });
    assertSameAsReference(report.fingerprint, await reference("disk"));
  } finally {
    await cleanup();
  }
});
