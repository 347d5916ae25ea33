/**
 * ArchiveData: where a change's data comes from in a diff archive of either version, a member of
 * its own (`new/<path>`, `delta/<path>`) or a span of a group member (group-format.ts).
 *
 * Opening checks, before any byte is inflated, that every group the manifest names is in the
 * archive, declares at most MAX_GROUP_SIZE bytes and holds every span named in it (the manifest
 * parser has already checked that spans are ordered and disjoint). Opened without the manifest
 * (a restore reading it as a stream beside the data), each group is checked so when first read,
 * and each span against the group as read. A group is read through the
 * ZipReader's member API, so its CRC-32, exact declared size and deflate-ratio checks apply: a
 * group that inflates past its declared size (a bomb) or stops short of it (cut) is refused
 * there with CORRUPT. Each span is also checked against the tar header in front of it.
 *
 * The last group read is kept, so changes read in manifest order (an apply) or archive order (a
 * restore) inflate each group once, and a one-path restore inflates at most one group. Once two
 * groups that lie next to each other in the archive have been read one after the other, the
 * reader is walking the archive, and the group after them (if it comes next and the manifest
 * names it) is read ahead: it inflates (on another thread, with a codec that can) while the
 * caller works through the spans of the one before. A read ahead that fails is dropped; its
 * error is seen only by a caller that asks for that group.
 * A span is handed out as a view of its group, not a copy: callers must not write to it, and a
 * caller that keeps it keeps the group. Memory is two groups per open archive (a read ahead that
 * was dropped may still be finishing), plus the groups of spans still held.
 */
import { IbtError } from "../errors.js";
import type { ZipReader } from "./zip-read.js";
import type { ZipEntry } from "./zip-central.js";
import type { Manifest, ManifestChange } from "./manifest.js";
import { BLOCK, MAX_GROUP_SIZE, checkDataHeader, isGroupName } from "./group-format.js";

interface Group {
  name: string;
  bytes: Promise<Uint8Array>;
}

export class ArchiveData {
  #cached: Group | undefined;
  #ahead: Group | undefined;
  /** Where the last group read lies among the archive's members, in central directory order. */
  #lastAt: number | undefined;
  /** Every member, in central directory order, and where each group the manifest names lies. */
  #members: ZipEntry[] | undefined;
  #at: Map<string, number> | undefined;
  /** The groups the manifest names; without the manifest, those checked as they were first read. */
  readonly #named = new Set<string>();

  /**
   * Checks the manifest's groups against the archive (CORRUPT when they do not fit). Without the
   * manifest, each group is checked when it is first read, and any group may be read ahead.
   */
  constructor(
    readonly reader: ZipReader,
    readonly manifest?: Manifest,
  ) {
    const ends = new Map<string, number>();
    for (const c of manifest?.changes ?? []) {
      if (!inGroup(c)) continue;
      ends.set(c.member!, Math.max(ends.get(c.member!) ?? 0, c.offset! + c.length!));
    }
    for (const [name, end] of ends) {
      const size = this.#check(name);
      if (end > size) throw new IbtError("CORRUPT", `${name}: the manifest points to byte ${end}, past the group's end at ${size}`, { path: name });
    }
  }

  /** The declared size of group `name`, once it is known to be in the archive and of a size a group may have. */
  #check(name: string): number {
    const entry = this.reader.get(name);
    if (!entry) throw new IbtError("CORRUPT", `the archive lacks member ${name}`, { path: name });
    if (entry.size > MAX_GROUP_SIZE) {
      throw new IbtError("CORRUPT", `${name} declares ${entry.size} bytes, more than a group may hold (${MAX_GROUP_SIZE})`, { path: name });
    }
    this.#named.add(name);
    return entry.size;
  }

  /** The change's data (file bytes or a delta), streamed; for grouped data, a read-only view of its span of the group. */
  async *open(c: ManifestChange): AsyncGenerator<Uint8Array> {
    if (c.member === undefined) throw new IbtError("INTERNAL", `${c.path} has no data in the archive`);
    if (!inGroup(c)) {
      yield* this.reader.open(c.member);
      return;
    }
    const group = await this.#group(c.member);
    const start = c.offset!;
    const end = start + c.length!;
    // The constructor checked the declared size and the reader the real one, but both are cheap to restate.
    if (end > group.length || start < BLOCK) throw new IbtError("CORRUPT", `${c.member}: span of ${c.path} lies outside the group`, { path: c.member });
    checkDataHeader(group.subarray(start - BLOCK, start), c.length!, `${c.member} (${c.path})`);
    yield group.subarray(start, end);
  }

  async #group(name: string): Promise<Uint8Array> {
    if (!this.manifest && !this.#named.has(name)) this.#check(name);
    if (this.#cached?.name !== name) {
      const ahead = this.#ahead?.name === name ? this.#ahead : undefined;
      this.#ahead = undefined;
      this.#cached = ahead ?? { name, bytes: this.reader.bytes(name) };
    }
    const cached = this.#cached;
    let bytes: Uint8Array;
    try {
      bytes = await cached.bytes;
    } catch (e) {
      if (this.#cached === cached) this.#cached = undefined;
      throw e;
    }
    this.#walked(name);
    return bytes;
  }

  /** Notes that group `name` was read; reads the next one ahead when the reads walk the archive. */
  #walked(name: string): void {
    this.#members ??= this.reader.entries();
    const named = (n: string) => (this.manifest ? this.#named.has(n) : isGroupName(n));
    this.#at ??= new Map(this.#members.flatMap((e, i) => (named(e.name) ? [[e.name, i] as const] : [])));
    const at = this.#at.get(name)!;
    const walking = this.#lastAt !== undefined && at === this.#lastAt + 1;
    this.#lastAt = at;
    const next = this.#members[at + 1]?.name;
    if (!walking || next === undefined || !named(next) || this.#ahead?.name === next || this.#cached?.name === next) return;
    if (!this.manifest) {
      try {
        this.#check(next);
      } catch {
        return; // refused when a caller asks for it
      }
    }
    const bytes = this.reader.bytes(next);
    bytes.catch(() => {}); // seen by a caller that asks for it; dropped otherwise
    this.#ahead = { name: next, bytes };
  }
}

/** Whether the change's data is a span of a group member. */
export function inGroup(c: ManifestChange): boolean {
  return c.member !== undefined && c.offset !== undefined && isGroupName(c.member);
}

const opened = new WeakMap<ZipReader, ArchiveData>();

/** The one ArchiveData of an open archive, so every reader of it shares its group cache. */
export function archiveData(reader: ZipReader, manifest: Manifest): ArchiveData {
  let data = opened.get(reader);
  if (!data || data.manifest !== manifest) {
    data = new ArchiveData(reader, manifest);
    opened.set(reader, data);
  }
  return data;
}
