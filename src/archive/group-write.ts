/**
 * GroupWriter: packs small files and deltas, in the order given (the diff's path order), into
 * group members of a v2 diff archive (group-format.ts), each a tar compressed as one ZIP member.
 * With zstd (a writer that has it), items up to ZSTD_GROUPED_MAX go in and groups aim at
 * MAX_GROUP_TARGET, since zstd's window spans a whole group; with deflate, whose window is
 * 32 KiB, items up to GROUPED_MAX and groups of DEFAULT_GROUP_SIZE.
 *
 * A group is held in memory until it is closed: it is closed before an item that would take it
 * past its target size, so it never holds more than the target, or one item alone with its
 * headers when that item is over the target. Each `add` returns
 * where the item's data lies in the group's uncompressed bytes, for the manifest. A closed group
 * is handed to the ZipWriter's `queue`, so it may still be deflating when the next one fills.
 */
import { IbtError } from "../errors.js";
import type { ZipWriter } from "./zip-write.js";
import { BLOCK, DEFAULT_GROUP_SIZE, GROUPED_MAX, MAX_GROUP_TARGET, ZSTD_GROUPED_MAX, groupName, padded, tarHeader } from "./group-format.js";

/** Padding and the end-of-archive blocks: read only, copied into each group's tar. */
const ZEROS = new Uint8Array(2 * BLOCK);

export interface GroupSpan {
  member: string;
  offset: number;
  length: number;
}

export class GroupWriter {
  /** The open group's tar, written in place: each item is copied in once, and no tar is assembled at the close. */
  #tar: Uint8Array | undefined;
  #size = 0;
  #count = 0;
  #mtimeMs = 0;
  /** Groups written so far. */
  groups = 0;

  readonly #target: number;
  readonly #maxItem: number;

  /** `zstd`: the groups are compressed with zstd (ZipWriter's `zstd` member option), which sizes them. */
  constructor(
    private readonly zip: ZipWriter,
    target?: number,
    private readonly zstd = false,
  ) {
    this.#target = target ?? (zstd ? MAX_GROUP_TARGET : DEFAULT_GROUP_SIZE);
    this.#maxItem = zstd ? ZSTD_GROUPED_MAX : GROUPED_MAX;
    if (!Number.isSafeInteger(this.#target) || this.#target < BLOCK || this.#target > MAX_GROUP_TARGET) {
      throw new IbtError("BAD_ARGUMENT", `group size ${String(target)} is not between ${BLOCK} and ${MAX_GROUP_TARGET} bytes`);
    }
  }

  /** Whether an item of `size` bytes goes into a group (else it is a member of its own). */
  takes(size: number): boolean {
    return size <= this.#maxItem;
  }

  /** Appends `data` (one array, or chunks in order) as the tar file `name`; returns where its bytes are. */
  async add(name: string, data: Uint8Array | readonly Uint8Array[], mtimeMs: number, mode: number): Promise<GroupSpan> {
    const chunks = data instanceof Uint8Array ? [data] : data;
    let length = 0;
    for (const c of chunks) length += c.length;
    if (length > this.#maxItem) throw new IbtError("INTERNAL", `${name} is too large for a group`);
    const header = tarHeader(name, length, mtimeMs, mode);
    const grows = header.length + padded(length);
    if (this.#size > 0 && this.#size + grows > this.#target) await this.close();
    // A group's array is made at its target size when it opens (the pages it never fills are
    // never touched), or at one item's size when that item alone is over the target; an item
    // joins an open group only within the target, so the array never grows.
    const tar = (this.#tar ??= new Uint8Array(Math.max(grows, this.#target) + ZEROS.length));
    tar.set(header, this.#size);
    const offset = this.#size + header.length;
    let at = offset;
    for (const c of chunks) {
      tar.set(c, at);
      at += c.length;
    }
    // The padding and the end blocks are the fresh array's zeros.
    this.#mtimeMs = Math.max(this.#mtimeMs, mtimeMs);
    this.#size += grows;
    return { member: groupName(this.#count + 1), offset, length };
  }

  /** Writes the open group, if any, with the tar's end-of-archive blocks. */
  async close(): Promise<void> {
    if (this.#size === 0) return;
    const tar = this.#tar!.subarray(0, this.#size + ZEROS.length);
    this.#tar = undefined;
    this.#size = 0;
    this.#count++;
    // The newest item's time, not the clock's: the same diff makes the same archive bytes.
    const mtimeMs = this.#mtimeMs;
    this.#mtimeMs = 0;
    // Queued: with a codec that deflates off this thread, the caller fills the next group meanwhile.
    await this.zip.queue(groupName(this.#count), tar, { mode: 0o644, mtimeMs, zstd: this.zstd });
    this.groups++;
  }
}
