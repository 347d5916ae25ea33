/**
 * What indexing learned of files it read, kept for the diff archive that follows, so that a file
 * that changed is read once, not twice, and the archive holds exactly the content the index
 * recorded even if the file changes again meanwhile. Two kinds, keyed by path and content hash
 * (served only for the content the index recorded):
 * - a file's bytes, as the chunks it was read in;
 * - a file's delta against the previous index's signature at its path (`basis`, the very
 *   signature object), made while it was read: all an updated file's archive member needs, a
 *   fraction of its bytes, and no memory for the bytes themselves.
 * The cache holds at most `limitBytes` in all, and no entry (bytes or delta) over
 * `maxFileBytes`; past that it simply stops keeping. A file it keeps neither for is read again
 * for the archive.
 */
export class ContentCache {
    limitBytes;
    maxFileBytes;
    files = new Map();
    deltas = new Map();
    used = 0;
    constructor(
    // What a command may hold on top of its index: read-once for the changes of a typical run.
    limitBytes = 64 << 20, 
    // Larger entries are not kept (their files are read again to archive them), rather than
    // crowd out many smaller ones.
    maxFileBytes = 16 << 20) {
        this.limitBytes = limitBytes;
        this.maxFileBytes = maxFileBytes;
    }
    /** Whether an entry of this size would be kept. */
    wants(size) {
        return size <= this.maxFileBytes && this.used + size <= this.limitBytes;
    }
    /**
     * The largest delta of a file of `fileSize` bytes worth making to keep: smaller than the file
     * (else the archive stores the file), and within what the cache would still take.
     */
    deltaRoom(fileSize) {
        return Math.max(0, Math.min(fileSize, this.maxFileBytes, this.limitBytes - this.used));
    }
    /** Keeps the content of `path` as the chunks it was read in (not copied: the caller hands them over). */
    put(path, hash, chunks) {
        this.keep(this.files, path, { hash, chunks, size: totalLength(chunks) });
    }
    /** The chunks of `path` if they are the content with this hash. */
    get(path, hash) {
        const f = this.files.get(path);
        return f && f.hash === hash ? f : undefined;
    }
    /** Keeps the delta of `path` (content `hash`) against `basis`, as made (the caller hands the chunks over). */
    putDelta(path, hash, basis, chunks) {
        this.keep(this.deltas, path, { hash, basis, chunks, size: totalLength(chunks) });
    }
    /** The delta of `path` against `basis` if it was made from the content with this hash. */
    getDelta(path, hash, basis) {
        const d = this.deltas.get(path);
        return d && d.hash === hash && d.basis === basis ? d : undefined;
    }
    clear() {
        this.files.clear();
        this.deltas.clear();
        this.used = 0;
    }
    keep(map, path, entry) {
        if (!this.wants(entry.size) || map.has(path))
            return;
        map.set(path, entry);
        this.used += entry.size;
    }
}
function totalLength(chunks) {
    let n = 0;
    for (const c of chunks)
        n += c.length;
    return n;
}
//# sourceMappingURL=content-cache.js.map