#!/usr/bin/env node
// Renders the engine benchmark's last results (bench/results.json, written by bench/run.mjs) as
// the tables of bench/README.md, between its `<!-- engine:begin -->` and `<!-- engine:end -->`
// markers, so the README never holds a number the JSON does not.
//   node bench/report.mjs            rewrite bench/README.md
//   node bench/report.mjs --print    print the tables only
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const BEGIN = "<!-- engine:begin -->";
const END = "<!-- engine:end -->";

const table = (header, rows) => [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

export function engineTables(results) {
  const { machine: m, config: c } = results;
  const lines = [
    `Measured ${m.date} on ${m.cpu}, ${m.nproc} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.rdiff}; ` +
      `${c.sizeMb} MiB files, median of ${c.runs} runs, peak RSS by \`${c.peakRss}\`. ` +
      "Ratio = rdiff's time / ibt's time (above 1: ibt is faster).",
    "",
    table(
      ["operation", "ibt s", "rdiff s", "ibt MB/s", "rdiff MB/s", "ratio", "goal", "met?"],
      results.speed.map((r) => [r.operation, r.ibtSeconds.toFixed(3), r.rdiffSeconds.toFixed(3), r.ibtMBps.toFixed(0), r.rdiffMBps.toFixed(0), r.ratio.toFixed(2), `≥ ${r.goalRatio}`, r.met ? "yes" : "**no**"]),
    ),
  ];
  if (results.memory1GiB) {
    lines.push(
      "",
      table(
        ["peak memory, 1 GiB input", "ibt MB", "rdiff MB", "ibt s", "rdiff s", "met?"],
        results.memory1GiB.map((r) => [r.operation, r.ibtPeakMb.toFixed(1), r.rdiffPeakMb.toFixed(1), r.ibtSeconds.toFixed(2), r.rdiffSeconds.toFixed(2), r.met ? "yes" : "**no**"]),
      ),
    );
  }
  const failed = results.checks.filter((x) => !x.ok);
  lines.push("", failed.length ? `Checks FAILED: ${failed.map((x) => x.name).join("; ")}` : `All ${results.checks.length} correctness checks passed.`);
  return lines.join("\n");
}

export function writeReport() {
  const results = JSON.parse(fs.readFileSync(path.join(BENCH_DIR, "results.json"), "utf8"));
  const readmePath = path.join(BENCH_DIR, "README.md");
  const readme = fs.readFileSync(readmePath, "utf8");
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`bench/README.md has no ${BEGIN} … ${END} section`);
  fs.writeFileSync(readmePath, `${readme.slice(0, start + BEGIN.length)}\n${engineTables(results)}\n${readme.slice(end)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--print")) {
    console.log(engineTables(JSON.parse(fs.readFileSync(path.join(BENCH_DIR, "results.json"), "utf8"))));
  } else writeReport();
}
