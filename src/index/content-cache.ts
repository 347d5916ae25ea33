/**
 * Bytes of files read while indexing, kept for the diff archive that follows, so a file
 * that changed is read once, not twice. Entries are keyed by path and content hash (a file is
 * only served if it is the content the index recorded), and the cache holds at most
 * `limitBytes` in files of at most `maxFileBytes` each; past that it simply stops keeping.
 */
export class ContentCache {
  private readonly files = new Map<string, { hash: string; bytes: Uint8Array }>();
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

  put(path: string, hash: string, bytes: Uint8Array): void {
    if (!this.wants(bytes.length) || this.files.has(path)) return;
    this.files.set(path, { hash, bytes });
    this.used += bytes.length;
  }

  /** The bytes of `path` if they are the content with this hash. */
  get(path: string, hash: string | undefined): Uint8Array | undefined {
    const f = this.files.get(path);
    return f && f.hash === hash ? f.bytes : undefined;
  }

  clear(): void {
    this.files.clear();
    this.used = 0;
  }
}
