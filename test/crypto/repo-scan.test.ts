/**
 * What someone who reads an encrypted repository's folder can find in it: a tree of distinctive
 * file names, directory names, link targets and contents (short strings, compressible repeated
 * text, a large random-looking file) is backed up twice (full, then incremental) into an
 * encrypted repository on a real folder, and every byte of every file under the folder is
 * searched for every 8-byte window of each: as UTF-8 (how the index and the ZIP store names,
 * targets and stored members), as UTF-16LE, and for the random file its raw bytes. The
 * snapshot's time string and its source label are searched the same way.
 *
 * The same search over an unencrypted repository of the same tree must find the names, or the
 * scan would prove nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { FsStore, Repository, type FsAdapter, type Store } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { randomBytes, rng, tempDir } from "../support/helpers.js";
import { encrypt } from "../support/encrypted-repo-kit.js";
import { indexFileOf } from "../../src/repo/index-object.js";
import { collect } from "../../src/bytes.js";

const NAMES = ["quarterly-salaries-zebra.txt", "secret-project-xylophone", "merger-plans-okapi.md", "board-minutes-narwhal"];
const TARGETS = ["../hidden-target-walrus-lagoon", "secret-project-xylophone/merger-plans-okapi.md"];
const CONTENTS = [
  "Alice Marchetti earns 184,250 per annum; Bob Quinlan-Ortega 97,300.",
  "The acquisition of Pelican Dynamics closes on the ninth of Brumaire.",
  "passphrase hint: the tortoise sings at dawn near the old aqueduct",
];
const REPEATED = "CONFIDENTIAL-LEDGER-LINE-7731;";
const SOURCE = "payroll-department-archive";
const TIME = new Date(Date.UTC(2026, 6, 14, 9, 41, 27, 512));

async function distinctiveTree(fs: FsAdapter, random: Uint8Array): Promise<void> {
  await fs.mkdir("secret-project-xylophone/board-minutes-narwhal", { recursive: true });
  await fs.writeFile("quarterly-salaries-zebra.txt", new TextEncoder().encode(CONTENTS[0]!));
  await fs.writeFile("secret-project-xylophone/merger-plans-okapi.md", new TextEncoder().encode(CONTENTS[1]!));
  await fs.writeFile("secret-project-xylophone/board-minutes-narwhal/notes.txt", new TextEncoder().encode(CONTENTS[2]!));
  await fs.writeFile("ledger.csv", new TextEncoder().encode(REPEATED.repeat(4000)));
  await fs.writeFile("blob.bin", random);
  await fs.symlink(TARGETS[0]!, "link-one");
  await fs.symlink(TARGETS[1]!, "link-two");
}

/** Every 8-byte window of every file under `dir`, as bigints. */
async function windowsOf(dir: string): Promise<{ windows: Set<bigint>; bytes: number; files: number }> {
  const windows = new Set<bigint>();
  let bytes = 0;
  let files = 0;
  const add = (data: Uint8Array) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i + 8 <= data.length; i++) windows.add(view.getBigUint64(i));
  };
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const data = readFileSync(join(entry.parentPath, entry.name));
    files++;
    bytes += data.length;
    add(data);
    // An index object that is readable as one is scanned inflated too: that is where names are.
    if (entry.name.endsWith(".ibtindex")) add(await collect(indexFileOf([data])));
  }
  return { windows, bytes, files };
}

function utf16le(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) new DataView(out.buffer).setUint16(i * 2, s.charCodeAt(i), true);
  return out;
}

/** The windows of `needle` found in `hay`. */
function found(hay: Set<bigint>, needle: Uint8Array): number {
  const view = new DataView(needle.buffer, needle.byteOffset, needle.byteLength);
  let n = 0;
  for (let i = 0; i + 8 <= needle.length; i++) if (hay.has(view.getBigUint64(i))) n++;
  return n;
}

async function backUp(store: Store, source: FsAdapter): Promise<void> {
  const repo = await Repository.init(store);
  await repo.backup(source, { time: TIME, source: SOURCE });
  await source.writeFile("quarterly-salaries-zebra.txt", new TextEncoder().encode(`${CONTENTS[0]} ${CONTENTS[2]}`));
  await source.writeFile("board-minutes-narwhal.txt", new TextEncoder().encode(CONTENTS[1]!));
  await repo.backup(source, { time: new Date(TIME.getTime() + 86_400_000), source: SOURCE });
}

test("an encrypted repository's folder holds none of the tree's names, link targets, contents, snapshot time or source label", async () => {
  const random = randomBytes(rng(4242), 1 << 20);
  const needles: [string, Uint8Array][] = [];
  for (const s of [...NAMES, ...TARGETS, ...CONTENTS, REPEATED.repeat(3), SOURCE, TIME.toISOString()]) {
    needles.push([`${s} (UTF-8)`, new TextEncoder().encode(s)], [`${s} (UTF-16LE)`, utf16le(s)]);
  }
  needles.push(["the random file", random]);

  const scan = async (encrypted: boolean) => {
    const sourceDir = tempDir();
    const repoDir = tempDir();
    const source = new NodeFs(sourceDir);
    await distinctiveTree(source, random);
    const folder = new FsStore(new NodeFs(repoDir));
    await backUp(encrypted ? await encrypt(folder) : folder, source);
    return await windowsOf(repoDir);
  };

  const plain = await scan(false);
  // The scanner finds what an unencrypted repository holds in the clear.
  for (const name of NAMES.slice(0, 2)) assert.ok(found(plain.windows, new TextEncoder().encode(name)) > 0, `the scan finds ${name} unencrypted`);
  assert.ok(found(plain.windows, random) > 1000, "the scan finds the random file unencrypted");

  const enc = await scan(true);
  assert.ok(enc.bytes > random.length, `${enc.bytes} bytes scanned`);
  const hits = needles.map(([what, bytes]) => [what, found(enc.windows, bytes), Math.max(0, bytes.length - 7)] as const).filter(([, n]) => n > 0);
  assert.deepEqual(hits, [], "windows found in the encrypted repository");
  const windows = needles.reduce((n, [, b]) => n + Math.max(0, b.length - 7), 0);
  process.stderr.write(`# scan: ${enc.files} files, ${enc.bytes} bytes, ${windows} needle windows, none found (unencrypted: ${plain.files} files, ${plain.bytes} bytes)\n`);
});
