// Under Deno, with the scoped permissions: the FsAdapter conformance suite for MemoryFs and the
// directory round trip in memory, the same sources Node runs, compared with Node's fingerprint.
import { test } from "node:test";
import { MemoryFs } from "../../src/index.js";
import { adapterConformance } from "../support/fs-conformance.js";
import { assertSameAsReference, directoryRoundTrip } from "../shared/roundtrip-cases.js";
import { reference } from "./work.js";

adapterConformance("MemoryFs under Deno", {
  make: async () => ({ fs: new MemoryFs() }),
  makeReadOnly: async (tree) => ({ fs: MemoryFs.from(tree, { readOnly: true }) }),
});

test("Deno: directory round trip in memory (MemoryFs) equals Node's", async () => {
  const report = await directoryRoundTrip({ source: new MemoryFs(), target: new MemoryFs(), store: new MemoryFs() });
  assertSameAsReference(report.fingerprint, await reference());
});
