#!/usr/bin/env node
/**
 * bench/small-tree.mjs: writes a tree of many small text files, the shape that makes a first
 * backup bound by per-file costs (the walk, one open and read per file) rather than by bytes.
 *
 *   node bench/small-tree.mjs DIR [FILES=50000]
 *
 * FILES files of 0.2–3 KB, 200 to a directory, the directories two levels deep (20 per parent),
 * content from a seeded generator so every run writes the same tree. DIR must not exist.
 */
import fs from "node:fs";
import path from "node:path";

const [dir, count = "50000"] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node bench/small-tree.mjs DIR [FILES]");
  process.exit(2);
}
const files = Number.parseInt(count, 10);
if (fs.existsSync(dir)) {
  console.error(`${dir} exists`);
  process.exit(2);
}

// xorshift32: small, seeded, and the same on every Node version.
let state = 0x9e3779b9;
const next = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};
const WORDS = ["backup", "delta", "tree", "file", "index", "change", "the", "of", "and", "data", "walk", "\n"];
const text = (n) => {
  const parts = [];
  let len = 0;
  while (len < n) {
    const w = WORDS[Math.floor(next() * WORDS.length)];
    parts.push(w);
    len += w.length + 1;
  }
  return parts.join(" ").slice(0, n);
};

const PER_DIR = 200;
const PER_PARENT = 20;
for (let i = 0; i < files; i++) {
  const d = Math.floor(i / PER_DIR);
  const sub = path.join(dir, `p${String(Math.floor(d / PER_PARENT)).padStart(3, "0")}`, `d${String(d % PER_PARENT).padStart(2, "0")}`);
  if (i % PER_DIR === 0) fs.mkdirSync(sub, { recursive: true });
  fs.writeFileSync(path.join(sub, `f${String(i % PER_DIR).padStart(3, "0")}.txt`), text(200 + Math.floor(next() * 2800)));
}
