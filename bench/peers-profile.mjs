/**
 * bench/peers-profile.mjs: where one ibt restore spends its time, and what an ibt repository
 * holds.
 *
 * `profileRestore` runs `ibt restore` once under `node --cpu-prof`, sums the profile's samples
 * into self time per function (V8's own buckets such as "(garbage collector)" and "(idle)"
 * included), and names each function by its place in the TypeScript source through the CLI
 * bundle's source map, since the bundle's line numbers mean nothing to a reader. It then lists
 * the repository folder by top-level entry (archives, indexes, snapshot records, the rest), so a
 * change of format shows where the stored bytes went. The result is text for a report.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const IBT = path.join(ROOT, "dist/cli/ibt.cjs");
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A source map's mappings as, per generated line, sorted [column, source, line] triples. */
function decodeMappings(map) {
  const lines = [];
  let source = 0;
  let origLine = 0;
  let origColumn = 0;
  for (const text of map.mappings.split(";")) {
    const segments = [];
    let column = 0;
    for (const segment of text.split(",")) {
      if (!segment) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const ch of segment) {
        const digit = BASE64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length >= 4) {
        source += fields[1];
        origLine += fields[2];
        origColumn += fields[3];
        segments.push([column, source, origLine]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

/** A resolver from a bundle's (line, column), both 0-based, to "src/file.ts:line". */
function sourceResolver(bundleFile) {
  const mapFile = `${bundleFile}.map`;
  if (!fs.existsSync(mapFile)) return () => null;
  const map = JSON.parse(fs.readFileSync(mapFile, "utf8"));
  const lines = decodeMappings(map);
  const base = path.dirname(mapFile);
  return (line, column) => {
    const segments = lines[line];
    if (!segments?.length) return null;
    let found = segments[0];
    for (const s of segments) if (s[0] <= column) found = s;
    const file = path.relative(ROOT, path.resolve(base, map.sourceRoot ?? "", map.sources[found[1]]));
    return `${file}:${found[2] + 1}`;
  };
}

/** Self time per function of a .cpuprofile, largest first. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const resolvers = new Map();
  const named = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber, columnNumber } = byId.get(id).callFrame;
    let where = "";
    if (url) {
      const file = url.startsWith("file://") ? fileURLToPath(url) : url;
      if (!resolvers.has(file)) resolvers.set(file, sourceResolver(file));
      where = resolvers.get(file)(lineNumber, columnNumber) ?? `${path.basename(file)}:${lineNumber + 1}`;
    }
    const key = `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    named.set(key, (named.get(key) ?? 0) + us);
  }
  return [...named].sort((a, b) => b[1] - a[1]);
}

function bytesAndFiles(dir) {
  let bytes = 0;
  let files = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = bytesAndFiles(p);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += fs.lstatSync(p).size;
      files += 1;
    }
  }
  return { bytes, files };
}

/** The repository's stored bytes by top-level entry, as markdown lines. */
export function repositoryShares(repo) {
  const entries = fs.readdirSync(repo, { withFileTypes: true }).map((e) => {
    const p = path.join(repo, e.name);
    return { name: e.isDirectory() ? `${e.name}/` : e.name, ...(e.isDirectory() ? bytesAndFiles(p) : { bytes: fs.lstatSync(p).size, files: 1 }) };
  });
  const total = entries.reduce((a, e) => a + e.bytes, 0);
  entries.sort((a, b) => b.bytes - a.bytes);
  return [
    `| repository entry | files | bytes | share |`,
    `|---|---|---|---|`,
    ...entries.map((e) => `| ${e.name} | ${e.files} | ${e.bytes.toLocaleString("en")} | ${((100 * e.bytes) / total).toFixed(1)}% |`),
    `| total | ${entries.reduce((a, e) => a + e.files, 0)} | ${total.toLocaleString("en")} | |`,
  ].join("\n");
}

/** Restores snapshot `id` of `repo` into a fresh folder under `work` with a CPU profile; a report. */
export function profileRestore(repo, id, work, top = 12) {
  fs.rmSync(work, { recursive: true, force: true });
  const profiles = path.join(work, "cpuprofile");
  fs.mkdirSync(profiles, { recursive: true });
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profiles, IBT, "restore", repo, path.join(work, "target"), "--snapshot", id, "--json"], { encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`profiled restore failed: ${r.stderr}`);
  const [file] = fs.readdirSync(profiles).filter((f) => f.endsWith(".cpuprofile"));
  const profile = JSON.parse(fs.readFileSync(path.join(profiles, file), "utf8"));
  const rows = selfTimes(profile);
  const total = rows.reduce((a, [, us]) => a + us, 0);
  const lines = [
    `ibt restore of the newest snapshot under --cpu-prof: ${wall.toFixed(2)} s wall, ${(total / 1e6).toFixed(2)} s profiled; top self time:`,
    "",
    "| function (source) | self ms | share |",
    "|---|---|---|",
    ...rows.slice(0, top).map(([name, us]) => `| ${name.replaceAll("|", "\\|")} | ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)}% |`),
    "",
    repositoryShares(repo),
  ];
  fs.rmSync(work, { recursive: true, force: true });
  return lines.join("\n");
}
