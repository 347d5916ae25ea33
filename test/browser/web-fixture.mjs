// The folders the web page's end-to-end test backs up: v1, then v2 made from v1 by the kinds of
// change a backup must carry (small edits of a large file and of a text file, new files, a
// deleted file and a deleted directory, a rename), generated from a seed so every run sees the
// same bytes. Both are named "project" on disk, as a user picking the same folder twice would
// see it. No folder holds an empty directory: a webkitdirectory input only delivers files, so an
// empty directory could not reach the page through it (FileListFs documents the same).
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes, rng, textBytes } from "../../dist/test/support/helpers.js";

/** The big file: a few hundred KiB of incompressible bytes, edited by a few bytes in v2. */
export const BIG = "data/big.bin";
export const BIG_SIZE = 384 * 1024;

/** Whole seconds, so that copies and the browser's File.lastModified keep them exactly. */
const V1_TIME = new Date("2026-01-01T10:00:00Z");
const V2_TIME = new Date("2026-02-01T10:00:00Z");

/** Writes `files` (path → bytes) under `root`, each with modification time `time`. */
export function writeTree(root, files, time = V1_TIME) {
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), bytes);
    utimesSync(join(root, path), time, time);
  }
}

/** Makes `<base>/v1/project` and `<base>/v2/project`; returns their paths. */
export function makeVersions(base) {
  const next = rng(0x1b7_2026);
  const v1 = join(base, "v1", "project");
  writeTree(v1, {
    "README.md": textBytes(next, 3_000),
    [BIG]: randomBytes(next, BIG_SIZE),
    "data/table.csv": textBytes(next, 48_000),
    "assets/logo.bin": randomBytes(next, 20_000),
    "notes/todo.txt": textBytes(next, 900),
    "notes/ideas.txt": textBytes(next, 1_500),
    "notes/café ünïcode.txt": textBytes(next, 700),
    "src/app.js": textBytes(next, 6_000),
    "src/lib/util.js": textBytes(next, 2_500),
    "old/deep/nested/file.txt": textBytes(next, 1_000),
    "empty.txt": new Uint8Array(0),
  });

  const v2 = join(base, "v2", "project");
  cpSync(v1, v2, { recursive: true, preserveTimestamps: true }); // untouched files stay unchanged
  const big = readFileSync(join(v2, BIG));
  big.set(randomBytes(next, 16), 200_001); // a small edit in the middle of the big file
  const readme = Buffer.concat([readFileSync(join(v2, "README.md")), Buffer.from("\nA line added in v2.\n")]);
  writeTree(v2, { [BIG]: big, "README.md": readme, "notes/new.txt": textBytes(next, 1_200), "src/feature.js": textBytes(next, 3_000) }, V2_TIME);
  rmSync(join(v2, "notes/ideas.txt"));
  rmSync(join(v2, "old"), { recursive: true });
  renameSync(join(v2, "assets/logo.bin"), join(v2, "assets/logo-renamed.bin"));
  return { v1, v2 };
}

/**
 * The changes from v1 to v2 as a backup counts them (entries, directories included): README and
 * the big file updated, two files created, one renamed (listed as a move and a delete of its old
 * path), and notes/ideas.txt deleted along with old/, old/deep/, old/deep/nested/ and the file
 * in it.
 */
export const V2_CHANGES = 2 + 2 + 2 + 1 + 4;

/** Every file and directory under `root`: relative path → bytes (files) or null (directories). */
export function readTree(root) {
  const out = new Map();
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (statSync(join(root, path)).isDirectory()) {
        out.set(path, null);
        walk(path);
      } else out.set(path, readFileSync(join(root, path)));
    }
  };
  walk("");
  return out;
}

/** Only the files of a tree from readTree. */
export function filesOf(tree) {
  return new Map([...tree].filter(([, bytes]) => bytes !== null));
}

/** The sum of the file sizes in a tree from readTree. */
export function treeSize(tree) {
  let n = 0;
  for (const bytes of tree.values()) n += bytes?.length ?? 0;
  return n;
}

/** Same paths, same bytes, and (the fixture's times being whole seconds) the same file mtimes. */
export function assertSameTree(actualRoot, expectedRoot) {
  const actual = readTree(actualRoot);
  const expected = readTree(expectedRoot);
  assert.deepEqual([...actual.keys()], [...expected.keys()], "the same paths, files and directories");
  for (const [path, bytes] of expected) {
    if (bytes === null) {
      assert.equal(actual.get(path), null, `${path} is a directory`);
      continue;
    }
    assert.ok(actual.get(path).equals(bytes), `${path} has the same bytes`);
    assert.equal(statSync(join(actualRoot, path)).mtimeMs, statSync(join(expectedRoot, path)).mtimeMs, `${path} has the same mtime`);
  }
}
