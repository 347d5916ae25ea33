/**
 * Restores from S3 through the archive's read-ahead, counted on the strict server: a one-path
 * restore makes no more ranged GETs of the archive than it did with fixed 256 KiB blocks (2 for
 * a small file, 7 for a 3 MiB one on this tree, and never GETs past its member), a whole restore
 * streams the archive in pieces of 2 MiB (14 GETs instead of 32, each byte once), and ranged GETs
 * struck by faults (500, a reset mid body, a dropped connection) are retried or fetched again,
 * and the tree restores exactly. A whole restore takes its files in the order of their data in the
 * archive, not in path order, so it walks the archive from the front.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Repository } from "../../src/index.js";
import { MemoryFs } from "../../src/fs/memory.js";
import { randomBytes, rng } from "../support/helpers.js";
import { treeId } from "../support/repo-kit.js";
import { repoStoreOn, serverForThisTest } from "../support/s3-repo-kit.js";
import type { S3TestServer } from "../support/s3-server.js";

const MiB = 1024 * 1024;
const PREFIX = "readahead";

/** Big incompressible files (stored members of several MiB), text files (grouped) and one small file. */
async function tree(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const random = rng(21);
  await fs.mkdir("big");
  for (let d = 0; d < 7; d++) await fs.mkdir(`text/d${d}`, { recursive: true });
  for (let i = 0; i < 6; i++) await fs.writeFile(`big/b${i}.bin`, randomBytes(random, 3 * MiB + i * 1000));
  for (let i = 0; i < 120; i++) await fs.writeFile(`text/d${i % 7}/t${i}.txt`, wordText(random, 2000 + Math.floor(random() * 60_000)));
  await fs.writeFile("small.txt", new TextEncoder().encode("the one file\n"));
  return fs;
}

/** At least `n` bytes of words drawn by `random`: text that deflates, as source files do. */
function wordText(random: () => number, n: number): Uint8Array {
  const words = ["alpha", "beta", "gamma", "delta", "\n"];
  let text = "";
  while (text.length < n) text += words[Math.floor(random() * words.length)] + " ";
  return new TextEncoder().encode(text);
}

/** Ranged GETs of the archive since log entry `from`, and the bytes they asked for. */
function archiveGets(server: S3TestServer, from: number, prefix = PREFIX): { gets: number; bytes: number } {
  let gets = 0;
  let bytes = 0;
  for (const e of server.log.slice(from)) {
    if (e.op !== "GetObject" || !e.key?.startsWith(`${prefix}/data/`) || e.status >= 300) continue;
    gets++;
    const m = /^bytes=(\d+)-(\d+)$/.exec(e.range ?? "");
    bytes += m ? Number(m[2]) - Number(m[1]) + 1 : Infinity;
  }
  return { gets, bytes };
}

test("restores from S3: a one-path restore reads its member only, a whole restore streams the archive in few GETs, faults are retried", async (t) => {
  const server = await serverForThisTest(5 * MiB);
  const store = repoStoreOn(server, PREFIX, { partSize: 5 * MiB, minPartSize: 5 * MiB });
  const source = await tree();
  const repo = await Repository.init(store);
  const snap = await repo.backup(source);
  const archive = snap.bytesStored;
  assert.ok(archive > 15 * MiB, `archive of ${archive} bytes`);

  // One small file: the end record, the central directory, the manifest, then its member.
  let from = server.log.length;
  const one = new MemoryFs();
  await repo.restore(snap.id, one, { paths: ["small.txt"] });
  assert.equal(new TextDecoder().decode(await one.read("small.txt", 0, 100)), "the one file\n");
  const small = archiveGets(server, from);
  assert.ok(small.gets <= 2, `${small.gets} GETs for one small file`);
  assert.ok(small.bytes <= 2 * 256 * 1024, `${small.bytes} bytes for one small file`);

  // One 3 MiB file: with fixed blocks, a GET per MiB of its data besides the above.
  from = server.log.length;
  const big = new MemoryFs();
  await repo.restore(snap.id, big, { paths: ["big/b3.bin"] });
  const member = archiveGets(server, from);
  assert.ok(member.gets <= 6, `${member.gets} GETs for one 3 MiB file`);
  assert.ok(member.bytes <= 3 * MiB + 2 * 256 * 1024, `${member.bytes} bytes for one 3 MiB file`);

  // The whole tree: far fewer GETs than one per MiB of archive.
  from = server.log.length;
  const whole = new MemoryFs();
  await repo.restore(snap.id, whole);
  assert.equal(await treeId(whole), await treeId(source));
  const all = archiveGets(server, from);
  assert.ok(all.gets < archive / MiB, `${all.gets} GETs for a ${archive}-byte archive`);
  assert.ok(all.bytes <= archive + 256 * 1024, `${all.bytes} bytes loaded for a ${archive}-byte archive`);

  // The whole tree again over a target that lacks two files: it reads about what they need, not
  // whole windows around them.
  from = server.log.length;
  await whole.remove("big/b1.bin");
  await whole.remove("text/d3/t3.txt");
  await repo.restore(snap.id, whole);
  assert.equal(await treeId(whole), await treeId(source));
  const two = archiveGets(server, from);
  assert.ok(two.bytes <= 3 * MiB + 4 * 256 * 1024, `${two.bytes} bytes for a 3 MiB file and a text file`);

  t.diagnostic(`archive ${archive} bytes; ranged GETs (bytes): one small file ${small.gets} (${small.bytes}), one 3 MiB file ${member.gets} (${member.bytes}), the whole tree ${all.gets} (${all.bytes}), two files missing ${two.gets} (${two.bytes})`);

  // Faults on the archive's ranged GETs, past the first few (so they strike windows fetched ahead too).
  for (const kind of ["500", "reset-mid-body", "drop"] as const) {
    from = server.log.length;
    server.faults.push({ kind, op: "GetObject", key: new RegExp(`^${PREFIX}/data/`), skip: 4, times: 3 });
    const faulty = new MemoryFs();
    await repo.restore(snap.id, faulty);
    assert.equal(await treeId(faulty), await treeId(source), `${kind}: the tree restores exactly`);
    assert.equal(server.log.slice(from).filter((e) => e.fault === kind).length, 3, `${kind}: three GETs struck`);
  }
});

test("a whole restore reads the archive front to back, though path order and archive order differ", async (t) => {
  const server = await serverForThisTest(5 * MiB);
  const store = repoStoreOn(server, `${PREFIX}-order`, { partSize: 5 * MiB, minPartSize: 5 * MiB });
  // Each directory's small text files come before its big file in path order, but the text goes
  // into groups stored only once full, so the archive holds them in another order than the paths.
  const source = new MemoryFs();
  const random = rng(22);
  for (let d = 0; d < 40; d++) {
    const dir = `d${String(d).padStart(2, "0")}`;
    await source.mkdir(dir);
    for (let i = 0; i < 8; i++) await source.writeFile(`${dir}/a${i}.txt`, wordText(random, 30_000));
    await source.writeFile(`${dir}/z.bin`, randomBytes(random, MiB));
  }
  const repo = await Repository.init(store);
  const snap = await repo.backup(source);
  const archive = snap.bytesStored;
  assert.ok(archive > 40 * MiB, `archive of ${archive} bytes`);

  const from = server.log.length;
  const whole = new MemoryFs();
  await repo.restore(snap.id, whole);
  assert.equal(await treeId(whole), await treeId(source));
  const all = archiveGets(server, from, `${PREFIX}-order`);
  assert.ok(all.bytes <= archive + 256 * 1024, `${all.bytes} bytes loaded for a ${archive}-byte archive`);
  // A walk from the front: the end record, then 2 MiB pieces from the first (a whole restore's
  // windows start whole), and no window fetched for a jump ahead or back (in path order: 28 GETs;
  // with windows growing from 256 KiB: 24).
  const walk = 1 + Math.ceil(archive / (2 * MiB));
  assert.ok(all.gets <= walk, `${all.gets} ranged GETs for a ${archive}-byte archive, where a walk from the front makes ${walk}`);
  t.diagnostic(`archive ${archive} bytes; ${all.gets} ranged GETs (a walk: ${walk}), ${all.bytes} bytes`);
});

test("a whole restore of an incremental reads each archive of its chain about once", async (t) => {
  const server = await serverForThisTest(5 * MiB);
  const prefix = `${PREFIX}-chain`;
  const store = repoStoreOn(server, prefix, { partSize: 5 * MiB, minPartSize: 5 * MiB });
  const source = new MemoryFs();
  const random = rng(23);
  for (let d = 0; d < 24; d++) {
    const dir = `d${String(d).padStart(2, "0")}`;
    await source.mkdir(dir);
    for (let i = 0; i < 6; i++) await source.writeFile(`${dir}/a${i}.txt`, wordText(random, 30_000));
    await source.writeFile(`${dir}/z.bin`, randomBytes(random, 2 * MiB));
  }
  const repo = await Repository.init(store);
  const full = await repo.backup(source);
  // Every big file changed a little (deltas, in the second archive's own order), some text
  // rewritten, and new big files (after the deltas).
  for (let d = 0; d < 24; d++) {
    const dir = `d${String(d).padStart(2, "0")}`;
    const big = await source.read(`${dir}/z.bin`, 0, 2 * MiB);
    big.set(randomBytes(random, 64), (d * 7919) % (2 * MiB - 64));
    await source.writeFile(`${dir}/z.bin`, big);
    if (d % 3 === 0) await source.writeFile(`${dir}/a0.txt`, wordText(random, 30_000));
    if (d % 4 === 0) await source.writeFile(`${dir}/new.bin`, randomBytes(random, MiB));
  }
  const incremental = await repo.backup(source);
  assert.equal(incremental.kind, "incremental");

  const from = server.log.length;
  const whole = new MemoryFs();
  await repo.restore(incremental.id, whole);
  assert.equal(await treeId(whole), await treeId(source));
  const all = archiveGets(server, from, prefix);
  const archives = full.bytesStored + incremental.bytesStored;
  assert.ok(all.bytes <= archives + MiB, `${all.bytes} bytes loaded for archives of ${full.bytesStored} and ${incremental.bytesStored} bytes`);
  t.diagnostic(`archives ${full.bytesStored} + ${incremental.bytesStored} bytes; ${all.gets} ranged GETs, ${all.bytes} bytes`);
});
