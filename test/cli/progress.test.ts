import { test } from "node:test";
import assert from "node:assert/strict";
import type { Progress } from "../../src/repo/index.js";
import { ProgressDisplay, estimateSeconds, formatDuration, jsonLine, progressMode, terminalLine } from "../../src/cli/progress.js";

const tick = (over: Partial<Progress>): Progress => ({ phase: "write", files: 0, bytes: 0, rate: 0, ...over });

test("formatDuration: seconds, minutes with seconds, hours with minutes", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(59.6), "1m00s");
  assert.equal(formatDuration(187), "3m07s");
  assert.equal(formatDuration(3599), "59m59s");
  assert.equal(formatDuration(7500), "2h05m");
  assert.equal(formatDuration(Infinity), "?");
  assert.equal(formatDuration(-1), "?");
});

test("estimateSeconds: by bytes where the total bytes are known, else by files, else none", () => {
  assert.equal(estimateSeconds(tick({ bytes: 100, totalBytes: 400, rate: 50 }), 2), 6);
  assert.equal(estimateSeconds(tick({ files: 10, totalFiles: 40 }), 5), 15);
  assert.equal(estimateSeconds(tick({ files: 10, bytes: 1000, rate: 100 }), 10), undefined, "no total: no estimate");
  assert.equal(estimateSeconds(tick({ files: 0, totalFiles: 40 }), 5), undefined, "nothing done yet: no rate to go by");
  assert.equal(estimateSeconds(tick({ bytes: 500, totalBytes: 400, rate: 50 }), 2), 0, "past the total: nothing left, never negative");
});

test("terminalLine: bar, counts, both rates and the estimate", () => {
  const line = terminalLine(tick({ phase: "restore", files: 50, totalFiles: 200, bytes: 25 << 20, totalBytes: 100 << 20, rate: 5 << 20 }), 10);
  assert.equal(line, "restore [#####...............] 25% 50/200 files, 25.0 MiB, 5.0 MiB/s, 5 files/s, ETA 15s");
  const walk = terminalLine(tick({ phase: "index", files: 3000, bytes: 3 << 20, rate: 1 << 20 }), 3);
  assert.equal(walk, "index 3000 files, 3.0 MiB, 1.0 MiB/s, 1000 files/s", "no total: no bar and no estimate");
});

test("jsonLine: the Progress fields, the phase's elapsed time and the estimate", () => {
  const line = JSON.parse(jsonLine(tick({ files: 5, totalFiles: 20, bytes: 1000, rate: 333.3 }), 2.5));
  assert.deepEqual(line, { phase: "write", files: 5, totalFiles: 20, bytes: 1000, rate: 333, elapsedMs: 2500, etaSeconds: 8 });
});

test("progressMode: IBT_PROGRESS chooses; unset, a bar only on a terminal; anything else is refused", () => {
  assert.equal(progressMode(undefined, true), "bar");
  assert.equal(progressMode(undefined, false), "none");
  assert.equal(progressMode("", false), "none");
  assert.equal(progressMode("json", true), "json");
  assert.equal(progressMode("none", true), "none");
  assert.throws(() => progressMode("yes", false), { code: "BAD_ARGUMENT" });
});

test("progressMode: --json asks for JSON lines where IBT_PROGRESS is unset, and IBT_PROGRESS still wins", () => {
  assert.equal(progressMode(undefined, false, true), "json");
  assert.equal(progressMode(undefined, true, true), "json");
  assert.equal(progressMode("", false, true), "json");
  assert.equal(progressMode("none", false, true), "none");
  assert.equal(progressMode("bar", false, true), "bar");
  assert.equal(progressMode(undefined, false, false), "none");
});

test("ProgressDisplay (json): throttled within a phase, yet every phase's first and last state is written", () => {
  let now = 0;
  const out: string[] = [];
  const display = new ProgressDisplay("json", (t) => out.push(t), () => now);
  for (let i = 1; i <= 100; i++) {
    now = i * 10; // a tick every 10 ms for a second
    display.update(tick({ phase: "index", files: i, bytes: i * 100, rate: 1 }));
  }
  display.update(tick({ phase: "write", files: 1, bytes: 7, rate: 1 }));
  display.update(tick({ phase: "write", files: 2, bytes: 9, rate: 1 }));
  display.done();
  const lines = out.map((l) => JSON.parse(l) as Progress);
  assert.ok(out.every((l) => l.endsWith("\n")));
  const index = lines.filter((l) => l.phase === "index");
  assert.ok(index.length >= 4 && index.length <= 6, `about four a second, got ${index.length}`);
  assert.equal(index[0]!.files, 1, "a phase's first tick is written");
  assert.equal(index.at(-1)!.files, 100, "its last tick is written when the next phase starts");
  assert.deepEqual(lines.filter((l) => l.phase === "write").map((l) => l.files), [1, 2], "done() writes the last phase's last tick");
});

test("ProgressDisplay (bar) redraws one line and wipes it at the end; (none) writes nothing", () => {
  const out: string[] = [];
  const bar = new ProgressDisplay("bar", (t) => out.push(t), () => 0);
  bar.update(tick({ files: 1 }));
  bar.update(tick({ files: 2 })); // within the interval: not drawn
  bar.done();
  assert.equal(out.length, 2);
  assert.ok(out[0]!.startsWith("\r\x1b[Kwrite 1 files"));
  assert.equal(out[1], "\r\x1b[K");
  const silent: string[] = [];
  const none = new ProgressDisplay("none", (t) => silent.push(t));
  none.update(tick({ files: 1 }));
  none.done();
  assert.deepEqual(silent, []);
});
