/**
 * The directory commands: `ibt index DIR INDEX`, `ibt diff DIR OLD_INDEX ARCHIVE [--index NEW]`
 * and `ibt apply DIR ARCHIVE`, over NodeFs. A progress line goes to stderr when it is a
 * terminal; `--json` prints a machine-readable summary (counts, bytes, milliseconds) on stdout.
 */
import { dirname, basename, resolve } from "node:path";
import { IbtError } from "../errors.js";
import { NodeFs } from "../node/fs-node.js";
import { DirIndex, type DirIndexOptions } from "../dirindex/dir-index.js";
import { ContentCache } from "../dirindex/content-cache.js";
import { DiffIndex, summarize } from "../dirindex/diff-index.js";
import { saveIndex, loadIndex, encodeIndex } from "../dirindex/index-file.js";
import { DiffData } from "../archive/diff-data.js";
import { applyDiff } from "../archive/apply.js";
import { openArchive } from "../archive/zip-read.js";
import { nodeDeflate } from "../node/deflate.js";
import { nodeInflate } from "../node/inflate.js";
import { flag, type Parsed } from "./args.js";

/** A file outside any tree, as (adapter on its directory, name). */
function fileAt(path: string): { fs: NodeFs; name: string } {
  const abs = resolve(path);
  return { fs: new NodeFs(dirname(abs), SYNC), name: basename(abs) };
}

// The command owns its process: synchronous calls skip the thread pool's round trips, which cost
// more than the calls themselves, and block nothing else.
const SYNC = { sync: true } as const;

function tree(path: string | undefined, what: string): NodeFs {
  if (!path) throw new IbtError("BAD_ARGUMENT", `missing ${what}`);
  return new NodeFs(resolve(path), SYNC);
}

function need(p: Parsed, count: number, usage: string): string[] {
  if (p.positionals.length !== count) throw new IbtError("BAD_ARGUMENT", `usage: ibt ${usage}`);
  return p.positionals;
}

class Progress {
  private last = 0;
  readonly tty = process.stderr.isTTY === true;
  /** Shows `text()` at most ten times a second, on a terminal only (built only then). */
  line(text: () => string): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    process.stderr.write(`\r\x1b[K${text()}`);
  }
  done(): void {
    if (this.tty) process.stderr.write("\r\x1b[K");
  }
}

const mb = (n: number) => (n / (1 << 20)).toFixed(1);

/** The chunks of a stream, kept as they are (unlike `collect`, which joins them into one copy). */
async function gather(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for await (const c of chunks) all.push(c);
  return all;
}

function indexOptions(p: Parsed, progress: Progress, previous?: DirIndex, cache?: ContentCache): DirIndexOptions {
  const o: DirIndexOptions = {
    exclude: p.options.get("exclude") ?? [],
    signatures: !flag(p, "no-signatures"),
    force: flag(p, "force-read"),
  };
  // Only a terminal shows progress; elsewhere the walk need not report each entry at all.
  if (progress.tty) o.onProgress = (x) => progress.line(() => `indexing: ${x.entries} entries, ${mb(x.bytesRead)} MiB read — ${x.path}`);
  if (previous) o.previous = previous;
  if (cache) o.cache = cache;
  return o;
}

function report(p: Parsed, summary: Record<string, unknown>, text: string): void {
  if (flag(p, "json")) process.stdout.write(JSON.stringify(summary) + "\n");
  else process.stderr.write(text + "\n");
}

export async function indexCommand(p: Parsed): Promise<void> {
  const [dir, out] = need(p, 2, "index DIR INDEX");
  const started = Date.now();
  const progress = new Progress();
  const index = await DirIndex.build(tree(dir, "DIR"), indexOptions(p, progress));
  progress.done();
  const file = fileAt(out!);
  await saveIndex(file.fs, file.name, index);
  const s = index.stats;
  report(
    p,
    { command: "index", id: index.id, files: s.files, dirs: s.dirs, symlinks: s.symlinks, bytes: s.bytes, bytesRead: s.bytesRead, ms: Date.now() - started },
    `ibt: indexed ${s.files} files, ${s.dirs} dirs, ${s.symlinks} symlinks (${mb(s.bytes)} MiB) in ${Date.now() - started} ms`,
  );
}

export async function diffCommand(p: Parsed): Promise<void> {
  const [dir, oldPath, archivePath] = need(p, 3, "diff DIR OLD_INDEX ARCHIVE");
  const started = Date.now();
  const progress = new Progress();
  const oldFile = fileAt(oldPath!);
  const old = await loadIndex(oldFile.fs, oldFile.name);
  const source = tree(dir, "DIR");
  const cache = new ContentCache();
  const now = await DirIndex.build(source, indexOptions(p, progress, old, cache));
  const diff = new DiffIndex(now, old).compute();
  const archive = fileAt(archivePath!);
  const archiving = new DiffData(diff, {
    source,
    cache,
    deflate: nodeDeflate,
    onProgress: (x) => progress.line(() => `archiving: ${x.changes}/${diff.changes.length} changes, ${mb(x.bytesOut)} MiB — ${x.path}`),
  }).createArchive(archive.fs, archive.name);
  // The new index is encoded while the archive is being written (whose deflate a codec may run
  // on other threads), and written only once the archive is whole: a failed archive leaves no
  // new index behind.
  const newIndexPath = p.options.get("index")?.at(-1);
  const encoding = newIndexPath === undefined ? undefined : gather(encodeIndex(now));
  encoding?.catch(() => undefined); // awaited below, after the archive; this keeps a failure meanwhile handled
  const stats = await archiving;
  if (newIndexPath !== undefined) {
    const f = fileAt(newIndexPath);
    await f.fs.writeFile(f.name, await encoding!);
  }
  progress.done();
  const s = summarize(diff);
  const counts = {
    created: s.createdFiles.length,
    updated: s.updatedFiles.length,
    deleted: s.deletedFiles.length,
    createdDirs: s.createdDirs.length,
    deletedDirs: s.deletedDirs.length,
    symlinks: s.symlinks.length,
    moved: s.moved.length,
    copied: s.copied.length,
    metadata: s.metadataOnly.length,
  };
  report(
    p,
    { command: "diff", base: diff.base, target: diff.target, ...counts, bytesRead: now.stats.bytesRead + stats.bytesIn, archiveBytes: stats.bytesOut, deltas: stats.deltas, ms: Date.now() - started },
    `ibt: ${diff.changes.length} changes (${Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(", ") || "none"}), archive ${stats.bytesOut} bytes, ${Date.now() - started} ms`,
  );
}

export async function applyCommand(p: Parsed): Promise<void> {
  const [dir, archivePath] = need(p, 2, "apply DIR ARCHIVE");
  const started = Date.now();
  const progress = new Progress();
  const archive = fileAt(archivePath!);
  const reader = await openArchive(archive.fs, archive.name, { inflate: nodeInflate });
  const result = await applyDiff(tree(dir, "DIR"), reader, {
    onProgress: (x) => progress.line(() => `${x.phase}: ${x.done}/${x.total} — ${x.path}`),
  });
  progress.done();
  report(
    p,
    { command: "apply", base: result.manifest.base, target: result.manifest.target, changes: result.manifest.changes.length, alreadyApplied: result.alreadyApplied, keptDirectories: result.keptDirectories, ms: Date.now() - started },
    (result.alreadyApplied ? `ibt: already applied (${result.manifest.changes.length} changes); modes and mtimes set in ${Date.now() - started} ms` : `ibt: applied ${result.manifest.changes.length} changes in ${Date.now() - started} ms`) +
      (result.keptDirectories.length ? `; kept ${result.keptDirectories.length} directories holding excluded files` : ""),
  );
}
