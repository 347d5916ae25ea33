// Under Deno, with read and write permission not scoped to folders (Deno creates symlinks only
// then; see run.mjs) but still no network, no subprocesses and one environment variable: the
// FsAdapter conformance suite for NodeFs (through Deno's Node layer, on real folders inside the
// work folder) and the directory round trip on disk, the same sources Node runs.
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";
import { NodeFs } from "../../src/node/index.js";
import { build, SECRET } from "../support/fs-conformance-kit.js";
import { adapterConformance, type OutsideProbe } from "../support/fs-conformance.js";
import { assertSameAsReference, directoryRoundTrip } from "../shared/roundtrip-cases.js";
import { denoPermissions, freshFolder, reference } from "./work.js";

async function snapshot(dir: string): Promise<string> {
  const lines: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    const st = await lstat(p);
    lines.push(`${name} ${st.mode} ${st.size} ${st.mtimeMs}`);
    if (st.isFile()) lines.push(new TextDecoder().decode(await readFile(p)));
    if (st.isSymbolicLink()) lines.push(await readlink(p));
    if (st.isDirectory()) lines.push(await snapshot(p));
  }
  return lines.join("\n");
}

/** A fresh root, and beside it a real folder the adapter must never reach. */
async function fresh(): Promise<{ root: string; outside: OutsideProbe; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await freshFolder();
  const root = join(dir, "root");
  const out = join(dir, "outside");
  await mkdir(root);
  await mkdir(out);
  await writeFile(join(out, "secret.txt"), SECRET);
  return { root, outside: { absolute: out, relative: relative(root, out), snapshot: () => snapshot(out) }, cleanup };
}

adapterConformance("NodeFs under Deno", {
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

test("Deno (disk profile): still no network, no subprocesses, no other environment variables", () => {
  const p = denoPermissions();
  assert.notEqual(p.querySync({ name: "net" }).state, "granted");
  assert.notEqual(p.querySync({ name: "run" }).state, "granted");
  assert.notEqual(p.querySync({ name: "env", variable: "HOME" }).state, "granted");
});

test("Deno: directory round trip on disk (NodeFs) equals Node's", async () => {
  const { dir, cleanup } = await freshFolder();
  try {
    for (const d of ["source", "target", "store"]) await mkdir(join(dir, d));
    const [source, target, store] = ["source", "target", "store"].map((d) => new NodeFs(join(dir, d)));
    const report = await directoryRoundTrip({ source: source!, target: target!, store: store! });
    assertSameAsReference(report.fingerprint, await reference());
  } finally {
    await cleanup();
  }
});
