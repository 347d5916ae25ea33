/**
 * DiffData: writes the diff archive, a plain ZIP that any unzip can list and extract (zstd
 * members, where the writer is given a zstd level, need bsdtar or 7-Zip).
 *
 * Members: `new/<path>` with the bytes of each created file (and of an updated file whose delta
 * would not be smaller), `delta/<path>` with a librsync delta (apply it with `rdiff patch`), and
 * `ibt-manifest.json` last, once every member's encoding is known (ZIP readers find members
 * through the central directory, so order does not matter). The manifest's text is made and
 * deflated change by change as the members are written (ManifestText, ZipWriter.later), so its
 * changes are never held together, only its deflated bytes. Where the writer has zstd, a manifest
 * of up to 4 MiB (and within the spill's `keep`) is kept as text instead and is one zstd frame.
 * Moves, copies, deletions, directories, symlinks and metadata changes live in the manifest only.
 *
 * Format 2 (the default) packs the bytes and deltas of files of at most GROUPED_MAX bytes, in the
 * diff's path order, into group members (`group/NNNNNN.tar`, group-write.ts) deflated as one, so small files
 * compress with their neighbours' context; larger files and their deltas stay members of their
 * own, so restoring one reads nothing else. Format 1, kept
 * for readers that predate groups, gives every file and delta its own member.
 *
 * Every file is hashed as it is read; if its content no longer matches the index the diff was
 * made from, writing fails with CHANGED rather than producing an archive that lies.
 *
 * A delta is spooled in memory while it stays under both the file's size and SPOOL_LIMIT: if it
 * grows past the file's size the file's bytes are stored instead; if it grows past the spool
 * limit it is finished only to learn its size, then made again straight into the archive.
 */
import { Breather } from "../breather.js";
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { DeltaJob } from "../rsync/delta.js";
import { streamJob } from "../rsync/job.js";
import { Hasher } from "../rsync/hashes.js";
import { collect, concatBytes, toHex } from "../bytes.js";
import type { Diff, Change } from "../dirindex/diff-index.js";
import type { IndexEntry } from "../dirindex/entry.js";
import type { ContentCache } from "../dirindex/content-cache.js";
import { ZipWriter, type ZipSink } from "./zip-write.js";
import type { DeflateCodec } from "./deflate.js";
import type { LaterSpill } from "./zip-later.js";
import { MANIFEST_FORMAT, MANIFEST_NAME, MANIFEST_VERSION, ManifestText, manifestHash, type ManifestChange, type ManifestEntry, type ManifestHead } from "./manifest.js";
import { pushToPull } from "./pipe.js";
import { GroupWriter } from "./group-write.js";

const SPOOL_LIMIT = 64 << 20;

/**
 * Members of their own up to this size (files and deltas too large for a group) are taken whole
 * and deflated off this thread beside the next ones (ZipWriter.queue); larger ones stream
 * through one deflate stream while everything else waits. Which way a member goes depends on its
 * size alone, so an archive's bytes do not depend on what the cache kept. A streamed member ends
 * with a data descriptor, which a reader of a remote archive fetches first and which so bounds
 * how far its read-ahead goes into the member's data: above this size that matters more than
 * the deflate's overlap.
 */
const QUEUED_MAX = 1 << 20;

export interface DiffDataOptions {
  /** The new tree, which the diff's new index describes: created and updated files are read from it. */
  source: FsAdapter;
  /** Bytes kept by the DirIndex that made the new index: those files are not read again. */
  cache?: ContentCache;
  /** Deflates the members. Default fflate (portable); in Node pass `nodeDeflate`, which is faster. */
  deflate?: DeflateCodec;
  /** The members' deflate level (ZipWriterOptions.level): 0 stores them. Default 6. */
  level?: number;
  /**
   * Zstandard level (1..19) for the groups and the manifest, when the codec has `zstd`: groups
   * then take files up to ZSTD_GROUPED_MAX and aim at 8 MiB (group-write.ts), and a manifest of
   * up to 4 MiB is one zstd frame. Ignored at `level` 0, in format 1 (for readers that predate
   * both), and with a codec without zstd. Default: none, so everything is deflated.
   */
  zstdLevel?: number;
  /**
   * Archive format: 3 (default) packs small files and deltas into groups and records content
   * hashes in 16 bytes; 2 records them whole; 1 writes one member per file.
   */
  format?: 1 | 2 | 3;
  /** Formats 2 and 3: the uncompressed size at which a group is closed. Default DEFAULT_GROUP_SIZE. */
  groupSize?: number;
  /** When the archive was made: the manifest's `created` and its member's time. Default: when writing begins. */
  time?: Date;
  /**
   * Where the manifest's deflated bytes wait past the spill's `keep`, so that a diff of millions
   * of changes holds a bounded part of its manifest (zip-later.ts). Used with a codec that
   * deflates incrementally (node:zlib's); without one the manifest is kept whole.
   */
  manifestSpill?: LaterSpill;
  /** Called after each change is written. */
  onProgress?: (p: { path: string; changes: number; bytesIn: number; bytesOut: number }) => void;
}

export interface ArchiveStats {
  changes: number;
  /** File bytes read from the source. */
  bytesIn: number;
  /** Archive bytes written. */
  bytesOut: number;
  deltas: number;
  /** Files stored whole (created, or updated with no smaller delta). */
  wholeFiles: number;
  /** Group members written (formats 2 and 3). */
  groups: number;
}

/** Where a change's data went: a member of its own, or a span of a group. */
type Placed = { member: string; offset?: number; length?: number };

/** What a manifest of `version` records of an index entry. */
export function manifestEntry(e: IndexEntry, version: number): ManifestEntry {
  const m: ManifestEntry = { type: e.type, size: e.size, mtimeMs: e.mtimeMs, mode: e.mode };
  if (e.hash !== undefined) m.hash = manifestHash(e.hash, version);
  if (e.target !== undefined) m.target = e.target;
  return m;
}

/**
 * A diff whose changes come as they are found, in path order: a full backup's, made while the
 * walk goes on. The target's identity and the parents are asked for once every change is read.
 */
export interface DiffStream {
  base: string;
  changes: AsyncIterable<Change>;
  end(): Promise<Pick<Diff, "target" | "parents">>;
}

export class DiffData {
  constructor(
    readonly diff: Diff | DiffStream,
    private readonly options: DiffDataOptions,
  ) {}

  /** Writes the archive through an adapter, whole or not at all (Python's create_archive). */
  async createArchive(fs: FsAdapter, path: string): Promise<ArchiveStats> {
    let stats: ArchiveStats | undefined;
    await fs.writeFile(
      path,
      pushToPull(async (sink) => {
        stats = await this.write(sink);
      }),
    );
    return stats!;
  }

  /** Streams the archive into `sink`. */
  async write(sink: ZipSink): Promise<ArchiveStats> {
    const stats: ArchiveStats = { changes: 0, bytesIn: 0, bytesOut: 0, deltas: 0, wholeFiles: 0, groups: 0 };
    const format = this.options.format ?? MANIFEST_VERSION;
    if (format !== 1 && format !== 2 && format !== 3) throw new IbtError("BAD_ARGUMENT", `archive format ${String(format)} (1, 2 or 3)`);
    const zip = new ZipWriter(
      async (chunk) => {
        stats.bytesOut += chunk.length;
        await sink(chunk);
      },
      {
        deflate: this.options.deflate,
        ...(this.options.level !== undefined ? { level: this.options.level } : {}),
        ...(this.options.zstdLevel !== undefined ? { zstdLevel: this.options.zstdLevel } : {}),
      },
    );
    const groups = format >= 2 ? new GroupWriter(zip, this.options.groupSize, zip.zstd) : undefined;
    const created = this.options.time ?? new Date();
    const member = zip.later(MANIFEST_NAME, this.options.manifestSpill, { zstd: format >= 2 });
    try {
      const head: ManifestHead = { format: MANIFEST_FORMAT, version: format, base: this.diff.base, created: created.toISOString() };
      const manifest = new ManifestText(head, (piece) => member.push(piece));
      // Cached files and synchronous reads make no macrotask of their own; timers need turns.
      const breather = new Breather();
      for await (const change of this.diff.changes) {
        const pause = breather.breathe();
        if (pause) await pause;
        await manifest.change(await this.writeChange(zip, groups, change, stats, format));
        stats.changes++;
        this.options.onProgress?.({ path: change.path, changes: stats.changes, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut });
      }
      await groups?.close();
      stats.groups = groups?.groups ?? 0;
      const { target, parents } = "end" in this.diff ? await this.diff.end() : this.diff;
      await manifest.end(parents, target);
      await zip.addLater(member, { mtimeMs: created.getTime() });
    } finally {
      await member.dispose();
    }
    await zip.finish();
    return stats;
  }

  private async writeChange(zip: ZipWriter, groups: GroupWriter | undefined, c: Change, stats: ArchiveStats, version: number): Promise<ManifestChange> {
    const entryOf = (e: IndexEntry) => manifestEntry(e, version);
    switch (c.kind) {
      case "delete":
        return { kind: c.kind, path: c.path, old: entryOf(c.old) };
      case "move":
      case "copy":
        return { kind: c.kind, path: c.path, from: c.from, new: entryOf(c.entry) };
      case "relink":
      case "metadata":
        return { kind: c.kind, path: c.path, old: entryOf(c.old), new: entryOf(c.entry) };
      case "create": {
        const out: ManifestChange = { kind: "create", path: c.path, new: entryOf(c.entry) };
        if (c.entry.type !== "file") return out;
        return { ...out, ...(await this.addWhole(zip, groups, c.entry, stats)), encoding: "bytes" };
      }
      case "update": {
        const out: ManifestChange = { kind: "update", path: c.path, old: entryOf(c.old), new: entryOf(c.entry) };
        const delta = c.old.signature && (await this.addDelta(zip, groups, c.old.signature, c.entry, stats));
        if (delta) return { ...out, ...delta, encoding: "delta" };
        return { ...out, ...(await this.addWhole(zip, groups, c.entry, stats)), encoding: "bytes" };
      }
    }
  }

  /**
   * The source file's chunks, hashed on the way; throws CHANGED at the end if they do not match.
   * `transient`: the consumer only reads each chunk before asking for the next (a delta job).
   */
  private async *verified(entry: IndexEntry, stats: ArchiveStats, transient = false): AsyncGenerator<Uint8Array> {
    const cached = this.cached(entry);
    if (cached) {
      // Hashed when it was indexed: these are exactly the bytes the index describes.
      stats.bytesIn += cached.size;
      yield* cached.chunks;
      return;
    }
    const hasher = await Hasher.create();
    try {
      let n = 0;
      for await (const chunk of this.options.source.readStream(entry.path, { transient })) {
        hasher.update(chunk);
        n += chunk.length;
        yield chunk;
      }
      stats.bytesIn += n;
      if (n !== entry.size || toHex(hasher.digest()) !== entry.hash) {
        throw new IbtError("CHANGED", `${entry.path} changed since it was indexed`, { path: entry.path });
      }
    } finally {
      hasher.dispose();
    }
  }

  /** The bytes the index's walk kept for `entry`: hashed when it was indexed, so exactly the bytes the index describes. */
  private cached(entry: IndexEntry): { chunks: readonly Uint8Array[]; size: number } | undefined {
    const cached = this.options.cache?.get(entry.path, entry.hash);
    return cached && cached.size === entry.size ? cached : undefined;
  }

  /** A small file's verified bytes, in one array. */
  private async bytesOf(entry: IndexEntry, stats: ArchiveStats): Promise<Uint8Array> {
    return concatBytes(await this.chunksOf(entry, stats));
  }

  /** The file's bytes as the chunks they are cached or read in, for a writer that copies them once. */
  private async chunksOf(entry: IndexEntry, stats: ArchiveStats): Promise<readonly Uint8Array[]> {
    const cached = this.cached(entry);
    if (!cached) return [await collect(this.verified(entry, stats))];
    stats.bytesIn += cached.size;
    return cached.chunks;
  }

  private async addWhole(zip: ZipWriter, groups: GroupWriter | undefined, entry: IndexEntry, stats: ArchiveStats): Promise<Placed> {
    const name = `new/${entry.path}`;
    const mode = entry.mode & 0o7777;
    stats.wholeFiles++;
    if (groups?.takes(entry.size)) {
      return groups.add(name, await this.chunksOf(entry, stats), entry.mtimeMs, mode);
    }
    if (entry.size <= QUEUED_MAX) await zip.queue(name, await this.bytesOf(entry, stats), { mtimeMs: entry.mtimeMs, mode });
    else await zip.add(name, this.verified(entry, stats), { mtimeMs: entry.mtimeMs, mode });
    return { member: name };
  }

  /** Adds a delta when it is smaller than the file; returns where, or undefined when it did not. */
  private async addDelta(zip: ZipWriter, groups: GroupWriter | undefined, signature: Uint8Array, entry: IndexEntry, stats: ArchiveStats): Promise<Placed | undefined> {
    const job = await DeltaJob.create(signature);
    const spool: Uint8Array[] = [];
    let size = 0;
    let spooling = true;
    job.ondata = (d) => {
      size += d.length;
      if (spooling) spool.push(d);
      if (size > SPOOL_LIMIT) {
        spooling = false;
        spool.length = 0;
      }
    };
    const counted: ArchiveStats = { ...stats };
    try {
      for await (const chunk of this.verified(entry, counted, true)) {
        job.push(chunk);
        if (size >= entry.size) return undefined; // no smaller than the file: store the file
      }
      job.push(new Uint8Array(0), true);
    } finally {
      job.dispose();
    }
    if (size >= entry.size) return undefined;
    stats.bytesIn = counted.bytesIn;
    stats.deltas++;
    const name = `delta/${entry.path}`;
    if (groups && spooling && groups.takes(entry.size)) return groups.add(name, spool, entry.mtimeMs, 0o644);
    if (spooling && size <= QUEUED_MAX) await zip.queue(name, concatBytes(spool), { mtimeMs: entry.mtimeMs, mode: 0o644 });
    else await zip.add(name, spooling ? spool : this.deltaAgain(signature, entry, stats), { mtimeMs: entry.mtimeMs, mode: 0o644 });
    return { member: name };
  }

  private async *deltaAgain(signature: Uint8Array, entry: IndexEntry, stats: ArchiveStats): AsyncGenerator<Uint8Array> {
    yield* streamJob(await DeltaJob.create(signature), this.verified(entry, { ...stats }, true));
  }
}
