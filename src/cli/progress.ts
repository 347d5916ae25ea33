/**
 * Progress of a long command (backup, restore, verify) on stderr, in the form its reader wants.
 * On a terminal: one line redrawn at most ten times a second, with the phase, a bar where the
 * phase knows its total, files and MiB done, the rates, and an estimate of the time left. For
 * scripts (`IBT_PROGRESS=json`): one JSON object per line, at most four a second per phase, and
 * always the last state of every phase, so a reader sees each phase's final counts; `--json`
 * asks for the same lines unless IBT_PROGRESS says otherwise, so a script that reads the result
 * as JSON on stdout reads progress as JSON on stderr. Otherwise (stderr is a file or a pipe)
 * nothing, so logs do not fill with redraws.
 *
 * Counts within a phase only grow; a new phase starts its own clock. The estimate assumes the
 * rest of the phase goes at the phase's average rate so far: in bytes where the phase knows its
 * total bytes, else in files; with neither total there is no estimate.
 */
import { IbtError } from "../errors.js";
import type { Progress } from "../repo/index.js";

export type ProgressMode = "bar" | "json" | "none";

/**
 * The mode from IBT_PROGRESS (json, bar or none); unset, JSON lines where the command was given
 * `--json`, else a bar on a terminal and nothing elsewhere.
 */
export function progressMode(setting: string | undefined, isTerminal: boolean, json = false): ProgressMode {
  if (setting === undefined || setting === "") return json ? "json" : isTerminal ? "bar" : "none";
  if (setting === "json" || setting === "bar" || setting === "none") return setting;
  throw new IbtError("BAD_ARGUMENT", `IBT_PROGRESS must be json, bar or none, not "${setting}"`);
}

/** Seconds left in the phase at its average rate so far, or undefined where that cannot be told. */
export function estimateSeconds(p: Progress, elapsedSeconds: number): number | undefined {
  if (p.totalBytes !== undefined && p.bytes > 0 && p.rate > 0) return Math.max(0, p.totalBytes - p.bytes) / p.rate;
  if (p.totalFiles !== undefined && p.files > 0 && elapsedSeconds > 0) return (Math.max(0, p.totalFiles - p.files) * elapsedSeconds) / p.files;
  return undefined;
}

/** A duration as a person reads it: 42s, 3m07s, 2h05m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
}

const mib = (n: number) => (n / (1 << 20)).toFixed(1);

/** The terminal line for one tick, without the carriage return that redraws it. */
export function terminalLine(p: Progress, elapsedSeconds: number): string {
  const total = p.totalBytes ?? p.totalFiles;
  const done = p.totalBytes !== undefined ? p.bytes : p.files;
  const share = total ? Math.min(1, done / total) : undefined;
  const bar = share === undefined ? "" : `[${"#".repeat(Math.round(share * 20)).padEnd(20, ".")}] ${Math.round(share * 100)}% `;
  const filesPerSecond = elapsedSeconds > 0 ? Math.round(p.files / elapsedSeconds) : 0;
  const eta = estimateSeconds(p, elapsedSeconds);
  return (
    `${p.phase} ${bar}${p.files}${p.totalFiles ? `/${p.totalFiles}` : ""} files, ${mib(p.bytes)} MiB, ` +
    `${mib(p.rate)} MiB/s, ${filesPerSecond} files/s${eta === undefined ? "" : `, ETA ${formatDuration(eta)}`}`
  );
}

/** The JSON line for one tick: the library's Progress, the phase's elapsed time, and the estimate where there is one. */
export function jsonLine(p: Progress, elapsedSeconds: number): string {
  const eta = estimateSeconds(p, elapsedSeconds);
  return JSON.stringify({
    ...p,
    rate: Math.round(p.rate),
    elapsedMs: Math.round(elapsedSeconds * 1000),
    ...(eta === undefined ? {} : { etaSeconds: Math.round(eta) }),
  });
}

/** Receives a command's Progress callbacks and draws them in one mode; `done` once the command ends. */
export class ProgressDisplay {
  private phase: Progress["phase"] | undefined;
  private phaseStarted = 0;
  private lastWritten = -Infinity;
  private pending: { p: Progress; at: number } | undefined;
  private drawn = false;
  private readonly interval: number;

  constructor(
    private readonly mode: ProgressMode,
    private readonly write: (text: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.interval = mode === "json" ? 250 : 100;
  }

  readonly update = (p: Progress): void => {
    if (this.mode === "none") return;
    const at = this.now();
    if (p.phase !== this.phase) {
      this.flush();
      this.phase = p.phase;
      this.phaseStarted = at;
      this.lastWritten = -Infinity;
    }
    if (at - this.lastWritten < this.interval) {
      this.pending = { p, at };
      return;
    }
    this.emit(p, at);
  };

  done(): void {
    this.flush();
    if (this.mode === "bar" && this.drawn) this.write("\r\x1b[K");
  }

  /** The JSON form owes a reader each phase's last state; a bar's last redraw is wiped anyway. */
  private flush(): void {
    if (this.mode === "json" && this.pending) this.emit(this.pending.p, this.pending.at);
    this.pending = undefined;
  }

  private emit(p: Progress, at: number): void {
    const elapsed = (at - this.phaseStarted) / 1000;
    this.write(this.mode === "json" ? jsonLine(p, elapsed) + "\n" : `\r\x1b[K${terminalLine(p, elapsed)}`);
    this.drawn = true;
    this.lastWritten = at;
    this.pending = undefined;
  }
}
