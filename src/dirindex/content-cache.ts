/**
 * The bytes of files indexing read, kept for the diff archive that follows, so that a file that
 * changed is read once, not twice, and the archive holds exactly the content the index recorded
 * even if the file changes again meanwhile. Keyed by path and content hash: bytes are served
 * only for the content the index recorded, as the chunks they were read in. The cache holds at
 * most `limitBytes` in all, and no file over `maxFileBytes`; past that it simply stops keeping.
 * A file it does not keep is read again for the archive.
 */
export class ContentCache {
  private readonly files = new Map<string, { hash: string; chunks: readonly Uint8Array[]; size: number }>();
  private used = 0;
  /** Called when bytes are let go: a walk that waits for room (DirIndex.stream) goes on. */
  onRelease: () => void = () => {};

  constructor(
    // What a command may hold on top of its index: read-once for the changes of a typical run.
    readonly limitBytes = 64 << 20,
    // Larger entries are not kept (their files are read again to archive them), rather than
    // crowd out many smaller ones.
    readonly maxFileBytes = 16 << 20,
  ) {}

  /** Whether an entry of this size would be kept. */
  wants(size: number): boolean {
    return size <= this.maxFileBytes && this.used + size <= this.limitBytes;
  }

  /** Whether an entry of this size would be kept once what the cache holds is let go. */
  couldTake(size: number): boolean {
    return size <= this.maxFileBytes && size <= this.limitBytes;
  }

  /** Bytes held. */
  get held(): number {
    return this.used;
  }

  /** Keeps the content of `path` as the chunks it was read in (not copied: the caller hands them over). */
  put(path: string, hash: string, chunks: readonly Uint8Array[]): void {
    const size = totalLength(chunks);
    if (!this.wants(size) || this.files.has(path)) return;
    this.files.set(path, { hash, chunks, size });
    this.used += size;
  }

  /** The chunks of `path` if they are the content with this hash. */
  get(path: string, hash: string | undefined): { chunks: readonly Uint8Array[]; size: number } | undefined {
    const f = this.files.get(path);
    return f && f.hash === hash ? f : undefined;
  }

  /**
   * Lets go of the bytes of `path`, once nothing will ask for them again (a backup calls this as
   * each change goes into the archive), so what the archive writer holds next has the room.
   */
  release(path: string): void {
    const f = this.files.get(path);
    if (!f) return;
    this.files.delete(path);
    this.used -= f.size;
    this.onRelease();
  }

  clear(): void {
    this.files.clear();
    this.used = 0;
    this.onRelease();
  }
}

function totalLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}
