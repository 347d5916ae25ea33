/**
 * Writing an index file (the format is in index-format.ts) as a stream of chunks.
 *
 * Fields are written through one DataView into 64 KiB buffers, and each run of them is handed on
 * as a view of its buffer; a buffer is never written again where a view was handed out, so the
 * chunks stay valid however long a consumer keeps them. Signatures of PASS_ON bytes or more are
 * handed on as they are, between two runs, without a copy; smaller ones are copied in with the
 * fields, because every chunk costs a trip through the consumer's async iteration, and for a
 * small signature that trip costs more than the copy.
 */
import { IbtError } from "../errors.js";
import { copyAscii } from "../bytes.js";
import { F_CTIME, F_HASH, F_INO, F_SIGNATURE, MAGIC, TYPES, VERSION } from "./index-format.js";
const CHUNK = 64 * 1024;
const PASS_ON = 1024;
const UTF8 = new TextEncoder();
/** Hex digit values by character code; 255 marks a character that is not one. */
const HEX_VALUES = new Uint8Array(128).fill(255);
for (let i = 0; i < 16; i++) {
    HEX_VALUES["0123456789abcdef".charCodeAt(i)] = i;
    HEX_VALUES["0123456789ABCDEF".charCodeAt(i)] = i;
}
export class ChunkWriter {
    buf = new Uint8Array(0);
    view = new DataView(this.buf.buffer);
    used = 0;
    /** Where the run of fields not yet handed out begins. */
    start = 0;
    out = [];
    outBytes = 0;
    /** Bytes written and not yet taken. */
    get pending() {
        return this.outBytes + this.used - this.start;
    }
    /** The chunks written so far, in order; the caller owns them. */
    take() {
        this.cut();
        const out = this.out;
        this.out = [];
        this.outBytes = 0;
        return out;
    }
    u8(v) {
        this.room(1);
        this.buf[this.used++] = v;
    }
    u32(v) {
        this.room(4);
        this.view.setUint32(this.used, v);
        this.used += 4;
    }
    f64(v) {
        this.room(8);
        this.view.setFloat64(this.used, v);
        this.used += 8;
    }
    varint(v) {
        this.room(10);
        do {
            let byte = v % 128;
            v = Math.floor(v / 128);
            if (v > 0)
                byte |= 0x80;
            this.buf[this.used++] = byte;
        } while (v > 0);
    }
    /** Bytes as they are: large runs are handed on without a copy, so they must not change later. */
    bytes(b) {
        if (b.length >= PASS_ON) {
            this.cut();
            this.out.push(b);
            this.outBytes += b.length;
            return;
        }
        this.room(b.length);
        this.buf.set(b, this.used);
        this.used += b.length;
    }
    text(s) {
        // A short ASCII string (nearly every path) is copied unit by unit after its one-byte length.
        if (s.length < 0x80) {
            this.room(1 + s.length);
            if (copyAscii(s, this.buf, this.used + 1) === s.length) {
                this.buf[this.used] = s.length;
                this.used += 1 + s.length;
                return;
            }
        }
        const b = UTF8.encode(s);
        this.varint(b.length);
        this.bytes(b);
    }
    /** A 32-byte hash given as 64 hex digits (indexes write them in lower case). */
    hash(hex) {
        let bad = hex.length !== 64 ? 255 : 0;
        this.room(32);
        for (let i = 0; i < 32 && !bad; i++) {
            const hi = HEX_VALUES[hex.charCodeAt(2 * i)] ?? 255;
            const lo = HEX_VALUES[hex.charCodeAt(2 * i + 1)] ?? 255;
            bad |= (hi | lo) & 0xf0;
            this.buf[this.used + i] = (hi << 4) | lo;
        }
        if (bad)
            throw new IbtError("BAD_ARGUMENT", `index entry hash is not 64 hex digits: ${JSON.stringify(hex)}`);
        this.used += 32;
    }
    room(n) {
        if (this.used + n <= this.buf.length)
            return;
        this.cut();
        this.buf = new Uint8Array(Math.max(CHUNK, n));
        this.view = new DataView(this.buf.buffer);
        this.used = this.start = 0;
    }
    /** Ends the current run of fields: it goes out as one chunk. */
    cut() {
        if (this.used === this.start)
            return;
        this.out.push(this.buf.subarray(this.start, this.used));
        this.outBytes += this.used - this.start;
        this.start = this.used;
    }
}
export function writeHeader(w) {
    w.bytes(MAGIC);
    w.u32(VERSION);
}
export function writeEntry(w, entry) {
    w.u8(TYPES.indexOf(entry.type));
    const flags = (entry.ctimeMs !== undefined ? F_CTIME : 0) |
        (entry.ino !== undefined ? F_INO : 0) |
        (entry.hash !== undefined ? F_HASH : 0) |
        (entry.signature !== undefined ? F_SIGNATURE : 0);
    w.u8(flags);
    w.text(entry.path);
    w.varint(entry.size);
    w.f64(entry.mtimeMs);
    w.varint(entry.mode);
    if (entry.ctimeMs !== undefined)
        w.f64(entry.ctimeMs);
    if (entry.ino !== undefined)
        w.varint(entry.ino);
    if (entry.hash !== undefined)
        w.hash(entry.hash);
    if (entry.type === "symlink")
        w.text(entry.target ?? "");
    if (entry.signature !== undefined) {
        w.varint(entry.signature.length);
        w.bytes(entry.signature);
    }
}
/** The end record, less the checksum that follows it. */
export function writeEnd(w, count) {
    w.u8(0);
    w.varint(count);
}
//# sourceMappingURL=index-encoder.js.map