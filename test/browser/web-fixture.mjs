// The folders the web page's end-to-end test backs up: v1, then v2 made from v1 by the kinds of
// change a backup must carry (small edits of a large file and of a text file, new files, a
// deleted file and a deleted directory, a rename), generated from a seed so every run sees the
// same bytes. Both are named "project" on disk, as a user picking the same folder twice would
// see it. No folder holds an empty directory: a webkitdirectory input only delivers files, so an
// empty directory could not reach the page through it (FileListFs documents the same).
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes, rng, textBytes } from "../../dist/test/helpers.js";

/** The big file: a few hundred KiB of incompressible bytes, edited by a few bytes in v2. */
export const BIG = "data/big.bin";
export const BIG_SIZE = 384 * 1024;

export function writeTree(root, files) {
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), bytes);
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
  cpSync(v1, v2, { recursive: true });
  const big = readFileSync(join(v2, BIG));
  big.set(randomBytes(next, 16), 200_001); // a small edit in the middle of the big file
  writeFileSync(join(v2, BIG), big);
  writeFileSync(join(v2, "README.md"), Buffer.concat([readFileSync(join(v2, "README.md")), Buffer.from("\nA line added in v2.\n")]));
  writeTree(v2, { "notes/new.txt": textBytes(next, 1_200), "src/feature.js": textBytes(next, 3_000) });
  rmSync(join(v2, "notes/ideas.txt"));
  rmSync(join(v2, "old"), { recursive: true });
  renameSync(join(v2, "assets/logo.bin"), join(v2, "assets/logo-renamed.bin"));
  return { v1, v2 };
}

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

/** The sum of the file sizes in a tree from readTree. */
export function treeSize(tree) {
  let n = 0;
  for (const bytes of tree.values()) n += bytes?.length ?? 0;
  return n;
}
