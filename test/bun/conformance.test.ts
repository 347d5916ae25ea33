// Under Bun: the FsAdapter conformance suite for MemoryFs, the same suite Node and Deno run.
// NodeFs under Bun is covered by the round trip on disk (roundtrip.test.ts) but not by this
// suite: NodeFs sets times half a microsecond late so that Node's seconds-to-timespec truncation
// lands on the millisecond, and Bun, which keeps nanoseconds, reads that half microsecond back,
// so the conformance suite's exact mtime checks fail there until NodeFs sets times per runtime.
import { MemoryFs } from "../../src/index.js";
import { adapterConformance } from "../support/fs-conformance.js";

adapterConformance("MemoryFs under Bun", {
  make: async () => ({ fs: new MemoryFs() }),
  makeReadOnly: async (tree) => ({ fs: MemoryFs.from(tree, { readOnly: true }) }),
});
