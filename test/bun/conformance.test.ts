// Under Bun: the FsAdapter conformance suite for MemoryFs and NodeFs, the same suite Node and
// Deno run. Bun keeps nanoseconds in file times where Node 20 truncates to microseconds, so the
// NodeFs part checks that times set through the adapter still read back to the millisecond.
import { mkdtemp, mkdir, rm, writeFile, readdir, lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { MemoryFs } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { build, SECRET } from "../support/fs-conformance-kit.js";
import { adapterConformance, type OutsideProbe } from "../support/fs-conformance.js";

adapterConformance("MemoryFs under Bun", {
  make: async () => ({ fs: new MemoryFs() }),
  makeReadOnly: async (tree) => ({ fs: MemoryFs.from(tree, { readOnly: true }) }),
});

/** A fresh root, and beside it a folder the adapter must never reach. */
async function fresh(): Promise<{ root: string; outside: OutsideProbe; cleanup: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), "ibt-bun-fs-"));
  const root = join(base, "root");
  const out = join(base, "outside");
  await mkdir(root);
  await mkdir(out);
  await writeFile(join(out, "secret.txt"), SECRET);
  const snapshot = async () => (await Promise.all((await readdir(out)).sort().map(async (n) => `${n} ${(await lstat(join(out, n))).mtimeMs}`))).join("\n");
  return { root, outside: { absolute: out, relative: relative(root, out), snapshot }, cleanup: () => rm(base, { recursive: true, force: true }) };
}

adapterConformance("NodeFs under Bun", {
  make: async () => {
    const { root, outside, cleanup } = await fresh();
    return { fs: new NodeFs(root), outside, cleanup };
  },
  makeReadOnly: async (tree) => {
    const { root, cleanup } = await fresh();
    await build(new NodeFs(root), tree);
    return { fs: new NodeFs(root, { readOnly: true }), cleanup };
  },
});
