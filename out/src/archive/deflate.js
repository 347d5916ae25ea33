/**
 * The deflate implementation behind ZipWriter, pluggable. The default is fflate, which is
 * JavaScript and runs everywhere; a runtime with a native zlib can hand in something faster
 * (the Node entry exports `nodeDeflate`, built on node:zlib). Whatever the codec, the archive
 * keeps ZIP method 8, so its output MUST be raw deflate (RFC 1951: no zlib or gzip wrapper).
 *
 * The writer trusts a codec as it trusts fflate: it does not inflate what it gets back to compare
 * (that would cost a good share of what a faster codec saves). Two things keep a broken codec
 * from going unnoticed. The writer checks what is cheap to check: a Uint8Array, not empty for
 * data that is not, and no more than deflate's 1032:1 expansion, which is what our reader refuses
 * first. And the CRC-32 in the archive is computed by the writer from the input, never by the
 * codec, so data that does not inflate to the input fails on every read (ours, `unzip -t`,
 * applyDiff, `verify --read-data`) with CORRUPT instead of yielding wrong bytes.
 */
import { Deflate, deflateSync } from "fflate";
import { IbtError } from "../errors.js";
import { concatBytes } from "../bytes.js";
import { DEFLATE_MAX_RATIO } from "./zip-central.js";
/** fflate: portable, and the default. */
export const fflateDeflate = {
    deflate: (data, level) => deflateSync(data, { level: level }),
    deflateStream(level) {
        const out = [];
        const deflater = new Deflate({ level: level }, (data) => out.push(data));
        return {
            push(piece, final) {
                deflater.push(piece, final);
                return concatBytes(out.splice(0));
            },
        };
    },
};
/** Checks one output of a codec: the bytes the writer is about to use or measure. */
export function codecBytes(out, name) {
    if (!(out instanceof Uint8Array)) {
        throw new IbtError("BAD_ARGUMENT", "the deflate codec returned something other than a Uint8Array", { path: name });
    }
    return out;
}
/** Checks a member's whole deflated size against its size, as the reader will. */
export function checkDeflatedSize(size, compressedSize, name) {
    if (compressedSize === 0 ? size > 0 : size > compressedSize * DEFLATE_MAX_RATIO) {
        throw new IbtError("BAD_ARGUMENT", `the deflate codec made ${compressedSize} bytes of ${size}: not deflate`, { path: name });
    }
}
//# sourceMappingURL=deflate.js.map