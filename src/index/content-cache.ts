/**
 * Bytes of files read while indexing, kept for the diff archive that follows, so a file
 * that changed is read once, not twice. Entries are keyed by path and content hash (a file is
 * only served if it is the content the index recorded), and the cache holds at most
 * `limitBytes` in files of at most `maxFileBytes` each; past that it simply stops keeping.
 */
export class ContentCache {
  private readonly files = new Map<string, { hash: string; chunks: readonly Uint8Array[]; size: number }>();
  private used = 0;

  constructor(
    // What a command may hold on top of its index: read-once for the changes of a typical run.
    readonly limitBytes = 64 << 20,
    // Larger files are read again to archive them, rather than crowd out many smaller ones.
    readonly maxFileBytes = 16 << 20,
  ) {}

  /** Whether a file of this size would be kept. */
  wants(size: number): boolean {
    return size <= this.maxFileBytes && this.used + size <= this.limitBytes;
  }

  /** Keeps the content of `path` as the chunks it was read in (not copied: the caller hands them over). */
  put(path: string, hash: string, chunks: readonly Uint8Array[]): void {
    let size = 0;
    for (const c of chunks) size += c.length;
    if (!this.wants(size) || this.files.has(path)) return;
    this.files.set(path, { hash, chunks, size });
    this.used += size;
  }

  /** The chunks of `path` if they are the content with this hash. */
  get(path: string, hash: string | undefined): { chunks: readonly Uint8Array[]; size: number } | undefined {
    const f = this.files.get(path);
    return f && f.hash === hash ? f : undefined;
  }

  clear(): void {
    this.files.clear();
    this.used = 0;
  }
}
