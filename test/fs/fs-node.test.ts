import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile, readdir, lstat, readFile, readlink, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { NodeFs } from "../../src/node/index.js";
import { build, SECRET } from "../support/fs-conformance-kit.js";
import { adapterConformance, type OutsideProbe } from "../support/fs-conformance.js";
import { isIbtError } from "../../src/index.js";
import { rng, randomBytes } from "../support/helpers.js";

/** A fresh root, and beside it a real directory the adapter must never reach. */
async function fresh(): Promise<{ root: string; outside: OutsideProbe; cleanup: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), "ibt-fs-"));
  const root = join(base, "root");
  const out = join(base, "outside");
  await mkdir(root);
  await mkdir(out);
  await writeFile(join(out, "secret.txt"), SECRET);
  const outside: OutsideProbe = { absolute: out, relative: relative(root, out), snapshot: () => snapshot(out) };
  return { root, outside, cleanup: () => rm(base, { recursive: true, force: true }) };
}

async function snapshot(dir: string): Promise<string> {
  const lines: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    const st = await lstat(p);
    lines.push(`${name} ${st.mode} ${st.size} ${st.mtimeMs} ${st.ino}`);
    if (st.isFile()) lines.push((await readFile(p)).toString("base64"));
    if (st.isSymbolicLink()) lines.push(await readlink(p));
    if (st.isDirectory()) lines.push(await snapshot(p));
  }
  return lines.join("\n");
}

adapterConformance("NodeFs", {
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

// The same contract with synchronous system calls, as the CLI uses them.
adapterConformance("NodeFs (sync)", {
  make: async () => {
    const { root, outside, cleanup } = await fresh();
    return { fs: new NodeFs(root, { sync: true }), outside, cleanup };
  },
  makeReadOnly: async (tree) => {
    const { root, cleanup } = await fresh();
    await build(new NodeFs(root), tree);
    return { fs: new NodeFs(root, { readOnly: true, sync: true }), cleanup };
  },
});

test("NodeFs: the root must be absolute", () => {
  assert.throws(() => new NodeFs("relative/dir"), (e) => isIbtError(e, "BAD_ARGUMENT"));
});

test("NodeFs: hands out plain Uint8Arrays, not Buffers", async () => {
  const { root, cleanup } = await fresh();
  try {
    const fs = new NodeFs(root);
    await fs.writeFile("f", new Uint8Array([1, 2, 3]));
    const got = await fs.read("f", 0, 3);
    assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype);
    for await (const c of fs.readStream("f")) assert.equal(Object.getPrototypeOf(c), Uint8Array.prototype);
  } finally {
    await cleanup();
  }
});

test("NodeFs: transient streams read into memory lent again to the next one; ordinary chunks are each their own", async () => {
  const { root, cleanup } = await fresh();
  try {
    const data = randomBytes(rng(5), 600_000);
    await writeFile(join(root, "a"), data);
    await writeFile(join(root, "b"), data.subarray(0, 1000));
    for (const options of [{}, { sync: true }]) {
      const fs = new NodeFs(root, options);
      const memory = async (path: string, transient: boolean) => {
        const buffers: ArrayBufferLike[] = [];
        for await (const c of fs.readStream(path, { transient })) buffers.push(c.buffer);
        return buffers;
      };
      const first = await memory("a", true);
      assert.equal(new Set(first).size, 1, `${JSON.stringify(options)}: one buffer for all of a transient stream`);
      const second = await memory("b", true);
      assert.ok(second.length === 1 && second[0] === first[0], "the next transient stream reads into the same buffer");
      const fresh = await memory("a", false);
      assert.equal(new Set([...fresh, first[0]]).size, fresh.length + 1, "ordinary chunks share nothing");
      // Two transient streams open at once never share a buffer.
      const x = fs.readStream("a", { transient: true })[Symbol.asyncIterator]();
      const y = fs.readStream("a", { transient: true })[Symbol.asyncIterator]();
      const [cx, cy] = [(await x.next()).value as Uint8Array, (await y.next()).value as Uint8Array];
      assert.notEqual(cx.buffer, cy.buffer, "concurrent transient streams read into different buffers");
      assert.deepEqual(cx, data.subarray(0, cx.length));
      assert.deepEqual(cy, data.subarray(0, cy.length));
      // Left early, each hands its buffer back: the next two streams get those two again.
      await x.return?.(undefined);
      await y.return?.(undefined);
      const again = new Set([...(await memory("a", true)), ...(await memory("a", true))]);
      assert.ok(again.has(cx.buffer) || again.has(cy.buffer), "a stream left early gave its buffer back");
    }
  } finally {
    await cleanup();
  }
});

test("NodeFs: a symlinked directory planted by someone else is not followed", async () => {
  const { root, outside, cleanup } = await fresh();
  try {
    await symlink(outside.absolute, join(root, "planted"));
    const fs = new NodeFs(root);
    await assert.rejects(fs.read("planted/secret.txt", 0, 100), (e) => isIbtError(e, "NOT_A_DIRECTORY"));
    await assert.rejects(fs.writeFile("planted/x", new Uint8Array(1)), (e) => isIbtError(e, "NOT_A_DIRECTORY"));
    assert.deepEqual(await readdir(outside.absolute), ["secret.txt"]);
  } finally {
    await cleanup();
  }
});

test("NodeFs: sockets, FIFOs and devices are UNSUPPORTED, and reading one never blocks", async (t) => {
  const { root, cleanup } = await fresh();
  try {
    const { spawnSync } = await import("node:child_process");
    if (spawnSync("mkfifo", [join(root, "fifo")]).status !== 0) return t.skip("no mkfifo here");
    const fs = new NodeFs(root);
    await assert.rejects(fs.lstat("fifo"), (e) => isIbtError(e, "UNSUPPORTED"));
    await assert.rejects(fs.read("fifo", 0, 1), (e) => isIbtError(e, "UNSUPPORTED"));
    assert.deepEqual(await fs.list(""), ["fifo"]);
  } finally {
    await cleanup();
  }
});

test("NodeFs: a long name still gets a temporary file that fits", async () => {
  const { root, cleanup } = await fresh();
  try {
    const fs = new NodeFs(root);
    const name = "ü".repeat(127); // 254 bytes: the longest name most file systems take
    await fs.writeFile(name, new TextEncoder().encode("long"));
    assert.deepEqual(await fs.list(""), [name]);
  } finally {
    await cleanup();
  }
});

test("NodeFs: writeFile from a stream of many small and some large chunks, in a reused buffer", async () => {
  const { root, cleanup } = await fresh();
  try {
    const next = rng(77);
    const whole = randomBytes(next, 3_000_000);
    // The source hands out views of one buffer that it overwrites for the next chunk, as the
    // sync file readers do: the adapter must be done with (or have copied) each chunk by then.
    async function* source(): AsyncGenerator<Uint8Array> {
      const reused = new Uint8Array(200_000);
      for (let at = 0; at < whole.length; ) {
        const n = Math.min(whole.length - at, next() < 0.05 ? 70_000 + Math.floor(next() * 130_000) : Math.floor(next() * 300));
        reused.set(whole.subarray(at, at + n));
        yield reused.subarray(0, n);
        reused.fill(0xee, 0, n);
        at += n;
      }
    }
    for (const options of [{}, { sync: true }]) {
      const fs = new NodeFs(root, options);
      await fs.writeFile("out.bin", source());
      assert.deepEqual(new Uint8Array(await readFile(join(root, "out.bin"))), whole);
    }
  } finally {
    await cleanup();
  }
});
