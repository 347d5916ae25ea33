/**
 * LaterMember: a deflated ZIP member whose data comes in pieces while other members are
 * written, and which is added after them (ZipWriter.later / addLater). An archive's manifest is
 * one: it grows by a change at a time as the changes' data is written, and goes last.
 *
 * Each piece is deflated as it comes, by the codec's `deflateIncremental`, so what is held until
 * the member is written is its deflated bytes, a fraction of the data; and they are exactly what
 * deflating the data whole gives, so the member is byte for byte the one `ZipWriter.add` writes
 * for the data joined with `compress: true`. A codec without that form (fflate's streamed output
 * differs from its whole one) has the pieces kept, copied into large chunks, and deflated whole
 * at the end, as `add` would.
 *
 * One piece deflates while the caller makes the next: `push` returns once the previous piece is
 * done, so at most one piece is in flight and its failure surfaces from the next call.
 */
import { IbtError } from "../errors.js";
import { ChunkQueue, concatBytes } from "../bytes.js";
import { crc32 } from "./crc32.js";
import { codecBytes, type DeflateCodec, type DeflateIncremental } from "./deflate.js";

/** Chunks the deflated bytes (or the kept pieces) are gathered in. */
const CHUNK = 1024 * 1024;

/** What a LaterMember holds once its data has ended. */
export interface LaterData {
  crc: number;
  size: number;
  /** The deflated bytes, in order (none for empty data). */
  deflated: Uint8Array[];
}

export class LaterMember {
  #crc = 0;
  #size = 0;
  #state: "open" | "finished" | "disposed" = "open";
  readonly #incremental: DeflateIncremental | undefined;
  /** The data, kept when the codec has no incremental form. */
  readonly #kept: ChunkQueue | undefined;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly codec: DeflateCodec,
    private readonly level: number,
  ) {
    this.#incremental = codec.deflateIncremental?.(level);
    this.#kept = this.#incremental ? undefined : new ChunkQueue(CHUNK);
  }

  /** Appends `piece` to the member's data. The caller may reuse `piece` once the returned promise settles. */
  async push(piece: Uint8Array): Promise<void> {
    this.#open();
    await this.#inFlight;
    this.#crc = crc32(piece, this.#crc);
    this.#size += piece.length;
    if (!this.#incremental) return this.#kept!.append(piece);
    // The codec may hold `piece` until its promise settles, and the caller may reuse it now.
    const pushed = this.#incremental.push(piece.slice());
    pushed.catch(() => {}); // awaited by the next call; a failure before then must not go unhandled
    this.#inFlight = pushed;
  }

  /** Ends the data: its CRC, size and deflated bytes. Called once, by ZipWriter.addLater. */
  async finish(): Promise<LaterData> {
    this.#open();
    this.#state = "finished";
    try {
      await this.#inFlight;
      const deflated = await this.#deflated();
      return { crc: this.#crc, size: this.#size, deflated: this.#size === 0 ? [] : deflated };
    } finally {
      this.#incremental?.dispose();
    }
  }

  /** Lets go of what the member holds, when it will not be written; a no-op once it was. */
  dispose(): void {
    if (this.#state !== "open") return;
    this.#state = "disposed";
    this.#inFlight.catch(() => {});
    this.#incremental?.dispose();
    this.#kept?.take(true);
  }

  async #deflated(): Promise<Uint8Array[]> {
    if (this.#incremental) {
      const out = new ChunkQueue(CHUNK);
      for (const chunk of await this.#incremental.finish()) out.append(codecBytes(chunk, this.name));
      return out.take(true);
    }
    const data = concatBytes(this.#kept!.take(true));
    const deflateAsync = this.codec.deflateAsync;
    const out = deflateAsync ? await deflateAsync.call(this.codec, data, this.level) : this.codec.deflate(data, this.level);
    return [codecBytes(out, this.name)];
  }

  #open(): void {
    if (this.#state !== "open") throw new IbtError("BAD_ARGUMENT", `${this.name}: the member was already ${this.#state === "finished" ? "written" : "disposed"}`, { path: this.name });
  }
}
