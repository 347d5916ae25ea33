/**
 * DiffData: writes the diff archive, a plain ZIP that any unzip can list and extract.
 *
 * Members: `new/<path>` with the bytes of each created file (and of an updated file whose delta
 * would not be smaller), `delta/<path>` with a librsync delta (apply it with `rdiff patch`), and
 * `ibt-manifest.json` last, once every member's encoding is known (ZIP readers find members
 * through the central directory, so order does not matter). Moves, copies, deletions,
 * directories, symlinks and metadata changes live in the manifest only.
 *
 * Every file is hashed as it is read; if its content no longer matches the index the diff was
 * made from, writing fails with CHANGED rather than producing an archive that lies.
 *
 * A delta is spooled in memory while it stays under both the file's size and SPOOL_LIMIT: if it
 * grows past the file's size the file's bytes are stored instead; if it grows past the spool
 * limit it is finished only to learn its size, then made again straight into the archive.
 */
import { IbtError } from "../errors.js";
import { DeltaJob } from "../rsync/delta.js";
import { streamJob } from "../rsync/job.js";
import { Hasher } from "../rsync/hashes.js";
import { toHex } from "../bytes.js";
import { ZipWriter } from "./zip-write.js";
import { encodeManifest, MANIFEST_FORMAT, MANIFEST_NAME, MANIFEST_VERSION } from "./manifest.js";
import { pushToPull } from "./pipe.js";
const SPOOL_LIMIT = 64 << 20;
export function manifestEntry(e) {
    const m = { type: e.type, size: e.size, mtimeMs: e.mtimeMs, mode: e.mode };
    if (e.hash !== undefined)
        m.hash = e.hash;
    if (e.target !== undefined)
        m.target = e.target;
    return m;
}
export class DiffData {
    diff;
    options;
    constructor(diff, options) {
        this.diff = diff;
        this.options = options;
    }
    /** Writes the archive through an adapter, whole or not at all (Python's create_archive). */
    async createArchive(fs, path) {
        let stats;
        await fs.writeFile(path, pushToPull(async (sink) => {
            stats = await this.write(sink);
        }));
        return stats;
    }
    /** Streams the archive into `sink`. */
    async write(sink) {
        const stats = { changes: 0, bytesIn: 0, bytesOut: 0, deltas: 0, wholeFiles: 0 };
        const zip = new ZipWriter(async (chunk) => {
            stats.bytesOut += chunk.length;
            await sink(chunk);
        }, { deflate: this.options.deflate });
        const changes = [];
        for (const change of this.diff.changes) {
            changes.push(await this.writeChange(zip, change, stats));
            stats.changes++;
            this.options.onProgress?.({ path: change.path, changes: stats.changes, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut });
        }
        const manifest = {
            format: MANIFEST_FORMAT,
            version: MANIFEST_VERSION,
            base: this.diff.base,
            target: this.diff.target,
            created: new Date().toISOString(),
            changes,
            parents: this.diff.parents,
        };
        await zip.add(MANIFEST_NAME, encodeManifest(manifest), { compress: true });
        await zip.finish();
        return stats;
    }
    async writeChange(zip, c, stats) {
        switch (c.kind) {
            case "delete":
                return { kind: c.kind, path: c.path, old: manifestEntry(c.old) };
            case "move":
            case "copy":
                return { kind: c.kind, path: c.path, from: c.from, new: manifestEntry(c.entry) };
            case "relink":
            case "metadata":
                return { kind: c.kind, path: c.path, old: manifestEntry(c.old), new: manifestEntry(c.entry) };
            case "create": {
                const out = { kind: "create", path: c.path, new: manifestEntry(c.entry) };
                if (c.entry.type !== "file")
                    return out;
                await this.addWhole(zip, c.entry, stats);
                return { ...out, member: `new/${c.path}`, encoding: "bytes" };
            }
            case "update": {
                const out = { kind: "update", path: c.path, old: manifestEntry(c.old), new: manifestEntry(c.entry) };
                if (c.old.signature && (await this.addDelta(zip, c.old.signature, c.entry, stats))) {
                    return { ...out, member: `delta/${c.path}`, encoding: "delta" };
                }
                await this.addWhole(zip, c.entry, stats);
                return { ...out, member: `new/${c.path}`, encoding: "bytes" };
            }
        }
    }
    /**
     * The source file's chunks, hashed on the way; throws CHANGED at the end if they do not match.
     * `transient`: the consumer only reads each chunk before asking for the next (a delta job).
     */
    async *verified(entry, stats, transient = false) {
        const cached = this.options.cache?.get(entry.path, entry.hash);
        if (cached && cached.size === entry.size) {
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
        }
        finally {
            hasher.dispose();
        }
    }
    async addWhole(zip, entry, stats) {
        await zip.add(`new/${entry.path}`, this.verified(entry, stats), { mtimeMs: entry.mtimeMs, mode: entry.mode & 0o7777 });
        stats.wholeFiles++;
    }
    /** Adds a delta member when the delta is smaller than the file; returns whether it did. */
    async addDelta(zip, signature, entry, stats) {
        // Made while the file was indexed, from the bytes the index hashed (content-cache.ts).
        const made = this.options.cache?.getDelta(entry.path, entry.hash, signature);
        if (made && made.size < entry.size) {
            stats.bytesIn += entry.size;
            await zip.add(`delta/${entry.path}`, made.chunks, { mtimeMs: entry.mtimeMs, mode: 0o644 });
            stats.deltas++;
            return true;
        }
        const job = await DeltaJob.create(signature);
        const spool = [];
        let size = 0;
        let spooling = true;
        job.ondata = (d) => {
            size += d.length;
            if (spooling)
                spool.push(d);
            if (size > SPOOL_LIMIT) {
                spooling = false;
                spool.length = 0;
            }
        };
        const counted = { ...stats };
        try {
            for await (const chunk of this.verified(entry, counted, true)) {
                job.push(chunk);
                if (size >= entry.size)
                    return false; // no smaller than the file: store the file
            }
            job.push(new Uint8Array(0), true);
        }
        finally {
            job.dispose();
        }
        if (size >= entry.size)
            return false;
        stats.bytesIn = counted.bytesIn;
        const source = spooling ? spool : this.deltaAgain(signature, entry, stats);
        await zip.add(`delta/${entry.path}`, source, { mtimeMs: entry.mtimeMs, mode: 0o644 });
        stats.deltas++;
        return true;
    }
    async *deltaAgain(signature, entry, stats) {
        yield* streamJob(await DeltaJob.create(signature), this.verified(entry, { ...stats }, true));
    }
}
//# sourceMappingURL=diff-data.js.map