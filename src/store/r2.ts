/**
 * A Store on a Cloudflare R2 bucket binding, for repositories written from inside a Worker.
 *
 * The binding is R2's own API, not S3's: `put` with `onlyIf` is the conditional create (it
 * answers null instead of an object when the condition fails), `get` takes a range, `list`
 * pages with a cursor. A stream `put` needs its length in advance, so a save collects one part
 * first: what fits is one `put`, anything larger becomes a multipart upload whose parts all have
 * the same size (R2 requires equal parts but the last), holding one part in memory at a time.
 * Nothing is visible before `complete`; a failure aborts the upload.
 *
 * The binding cannot list unfinished multipart uploads, so there is no `sweep`: an upload left by
 * a Worker that died is removed by the bucket's lifecycle rule for incomplete uploads (R2 sets
 * one of seven days by default).
 *
 * Only the types this file uses are declared here, so the package needs no Workers type package.
 */
import { chunksOf, concatBytes, type ByteSource } from "../bytes.js";
import { IbtError } from "../errors.js";
import { checkObjectName, type LoadOptions, type SaveOptions, type Store, type StoredObject } from "./types.js";

/** The parts of R2's object metadata used here. */
export interface R2ObjectLike {
  key: string;
  size: number;
}

export interface R2ObjectBodyLike extends R2ObjectLike {
  arrayBuffer(): Promise<ArrayBuffer>;
  body: ReadableStream<Uint8Array>;
}

export interface R2MultipartUploadLike {
  uploadPart(partNumber: number, value: Uint8Array): Promise<{ partNumber: number; etag: string }>;
  complete(parts: { partNumber: number; etag: string }[]): Promise<R2ObjectLike>;
  abort(): Promise<void>;
}

/** The methods of an R2 bucket binding (`env.BUCKET` in a Worker) that this store calls. */
export interface R2BucketLike {
  head(key: string): Promise<R2ObjectLike | null>;
  get(key: string, options?: { range?: { offset: number; length?: number } }): Promise<R2ObjectBodyLike | null>;
  put(key: string, value: Uint8Array, options?: { onlyIf?: Headers | { etagDoesNotMatch?: string } }): Promise<R2ObjectLike | null>;
  delete(key: string): Promise<void>;
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: R2ObjectLike[]; truncated: boolean; cursor?: string }>;
  createMultipartUpload(key: string): Promise<R2MultipartUploadLike>;
}

export interface R2StoreOptions {
  /** Objects live under `prefix/` in the bucket; none by default. */
  prefix?: string;
  /** Bytes per multipart part: R2's minimum is 5 MiB. */
  partSize?: number;
  /** A label for messages, e.g. the binding's name. */
  name?: string;
  /** Objects per listing page, 1 to 1000 (R2's most); the binding's own default otherwise. */
  pageSize?: number;
}

const MIN_PART = 5 << 20;
// Large enough that most archives are one put, small enough that a Worker holds it comfortably.
const DEFAULT_PART = 8 << 20;
const MAX_PAGE = 1000;

export class R2Store implements Store {
  readonly location: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly pageSize: number | undefined;

  constructor(
    private readonly bucket: R2BucketLike,
    options: R2StoreOptions = {},
  ) {
    const prefix = (options.prefix ?? "").replace(/^\/+|\/+$/g, "");
    if (prefix) checkObjectName(prefix, "R2Store");
    this.prefix = prefix ? `${prefix}/` : "";
    this.partSize = options.partSize ?? DEFAULT_PART;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < MIN_PART) {
      throw new IbtError("BAD_ARGUMENT", `R2Store: partSize must be at least ${MIN_PART} bytes`);
    }
    this.pageSize = options.pageSize;
    if (this.pageSize !== undefined && !(Number.isSafeInteger(this.pageSize) && this.pageSize >= 1 && this.pageSize <= MAX_PAGE)) {
      throw new IbtError("BAD_ARGUMENT", `R2Store: pageSize must be an integer from 1 to ${MAX_PAGE}`);
    }
    this.location = `r2:${options.name ?? "bucket"}${prefix ? `/${prefix}` : ""}`;
  }

  async save(name: string, data: Uint8Array | ByteSource, options: SaveOptions = {}): Promise<void> {
    checkObjectName(name, "save");
    aborted(options.signal);
    const key = this.prefix + name;
    const chunks = data instanceof Uint8Array ? [data] : chunksOf(data);
    const parts = partsOf(chunks, this.partSize);
    const first = await parts.next();
    const firstPart = first.done ? new Uint8Array(0) : first.value;
    const second = first.done ? first : await parts.next();
    aborted(options.signal);
    if (second.done) {
      const onlyIf = options.ifAbsent ? new Headers({ "if-none-match": "*" }) : undefined;
      const put = await this.call("put", name, () => this.bucket.put(key, firstPart, onlyIf ? { onlyIf } : {}));
      if (put === null) throw new IbtError("EXISTS", `save: object ${name} exists`, { path: name, caller: "save" });
      return;
    }
    if (options.ifAbsent) throw new IbtError("UNSUPPORTED", `save: a conditional create of more than ${this.partSize} bytes (${name})`, { path: name });
    const upload = await this.call("createMultipartUpload", name, () => this.bucket.createMultipartUpload(key));
    try {
      const done: { partNumber: number; etag: string }[] = [];
      let part: Uint8Array | undefined = firstPart;
      let next: IteratorResult<Uint8Array> = second;
      while (part) {
        aborted(options.signal);
        const n = done.length + 1;
        const body = part;
        done.push(await this.call("uploadPart", name, () => upload.uploadPart(n, body)));
        part = next.done ? undefined : next.value;
        if (!next.done) next = await parts.next();
      }
      aborted(options.signal);
      await this.call("complete", name, () => upload.complete(done));
    } catch (e) {
      await upload.abort().catch(() => {});
      throw e;
    }
  }

  async load(name: string, options: LoadOptions = {}): Promise<Uint8Array> {
    checkObjectName(name, "load");
    aborted(options.signal);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || (options.length !== undefined && (!Number.isSafeInteger(options.length) || options.length < 0))) {
      throw new IbtError("BAD_ARGUMENT", `load: bad range for ${name}`, { path: name, caller: "load" });
    }
    if (options.length === 0) {
      await this.stat(name);
      return new Uint8Array(0);
    }
    const key = this.prefix + name;
    if (offset === 0 && options.length === undefined) {
      const object = await this.call("get", name, () => this.bucket.get(key));
      if (!object) throw notFound(name, "load");
      return new Uint8Array(await this.call("get", name, () => object.arrayBuffer()));
    }
    const range = { offset, ...(options.length === undefined ? {} : { length: options.length }) };
    let object: R2ObjectBodyLike | null;
    try {
      object = await this.bucket.get(key, { range });
    } catch (e) {
      // R2 fails a range that starts at or past the end (an empty object's too) where the
      // contract gives an empty array: only then is the size fetched, to tell that from a fault.
      const head = await this.call("head", name, () => this.bucket.head(key));
      if (!head) throw notFound(name, "load");
      if (offset >= head.size) return new Uint8Array(0);
      throw this.failure("get", name, e);
    }
    if (!object) throw notFound(name, "load");
    return new Uint8Array(await this.call("get", name, () => object.arrayBuffer()));
  }

  async *loadStream(name: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    checkObjectName(name, "loadStream");
    aborted(options.signal);
    const object = await this.call("get", name, () => this.bucket.get(this.prefix + name));
    if (!object) throw notFound(name, "loadStream");
    try {
      for await (const chunk of chunksOf(object.body)) {
        aborted(options.signal);
        yield chunk;
      }
    } finally {
      // A reader that stops early releases the body rather than leaving it half read.
      await object.body.cancel().catch(() => {});
    }
  }

  async stat(name: string): Promise<StoredObject> {
    checkObjectName(name, "stat");
    const object = await this.call("head", name, () => this.bucket.head(this.prefix + name));
    if (!object) throw notFound(name, "stat");
    return { name, size: object.size };
  }

  async *list(prefix: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<StoredObject> {
    let cursor: string | undefined;
    do {
      aborted(options.signal);
      const page = await this.call("list", prefix || "(all)", () => this.bucket.list({ prefix: this.prefix + prefix, ...(this.pageSize ? { limit: this.pageSize } : {}), ...(cursor ? { cursor } : {}) }));
      for (const object of page.objects) yield { name: object.key.slice(this.prefix.length), size: object.size };
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  async remove(name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkObjectName(name, "remove");
    aborted(options.signal);
    await this.call("delete", name, () => this.bucket.delete(this.prefix + name));
  }

  /** Runs one binding call; its failures become IO errors that name the call and the object. */
  private async call<T>(what: string, name: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw this.failure(what, name, e);
    }
  }

  private failure(what: string, name: string, e: unknown): IbtError {
    if (e instanceof IbtError) return e;
    const why = e instanceof Error ? e.message : String(e);
    return new IbtError("IO", `R2 ${what} ${name} in ${this.location}: ${why}`, { path: name, cause: e });
  }
}

/** Regroups a stream of chunks into parts of exactly `size` bytes (the last may be shorter). */
async function* partsOf(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  for await (const chunk of chunks) {
    let rest = chunk;
    while (heldBytes + rest.length >= size) {
      const take = size - heldBytes;
      held.push(rest.subarray(0, take));
      // A copy even of a single chunk: the source may reuse its buffers once asked for more.
      yield held.length === 1 ? held[0]!.slice() : concatBytes(held);
      rest = rest.subarray(take);
      held = [];
      heldBytes = 0;
    }
    if (rest.length) {
      held.push(rest.slice());
      heldBytes += rest.length;
    }
  }
  if (heldBytes) yield concatBytes(held);
}

function notFound(name: string, caller: string): IbtError {
  return new IbtError("NOT_FOUND", `${caller}: no object ${name}`, { path: name, caller });
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new IbtError("ABORTED", "the operation was cancelled", { cause: signal.reason });
}
