/**
 * ZipWriter: a ZIP archive written front to back into a sink, one member at a time, so it can
 * go to any storage (a file, an upload, memory) and never needs to seek back.
 *
 * Members given as a Uint8Array (and streams that end within 64 KiB, which are collected) are
 * complete before their local header is written, so the header carries the CRC and sizes. A
 * longer stream is written as it arrives with general-purpose flag bit 3: the header carries
 * zeros and a data descriptor after the data (signature 0x08074b50, CRC, sizes) gives the real
 * values, 8-byte sizes when either reaches 0xFFFFFFFF. That is what Java's ZipOutputStream and
 * Go's archive/zip do: central-directory readers (Info-ZIP unzip, 7-Zip, Python, Go, ours) take
 * sizes from the central directory, and Java's streaming reader sizes the descriptor by the
 * bytes it counted. Memory per member is bounded (64 KiB of probe, the codec's window), whatever
 * its size.
 *
 * Compression "auto" (the default) deflates a member only when that saves at least 1/16: the
 * first 64 KiB (the whole member when smaller) are deflated as a probe, and the member is stored
 * if the probe does not shrink to 15/16. The decision depends on content only, never on how the
 * source is chunked; an in-memory member is also stored when its whole deflated form misses the
 * ratio. Deflate input is re-cut into 64 KiB pieces, so the bytes written do not depend on the
 * source's chunk sizes either. Empty members and directories are always stored. Deflating is
 * done by a codec (deflate.ts): fflate unless the caller gives a faster one.
 *
 * ZIP64 appears only where a value does not fit: the ZIP64 extra field in a local header (for
 * an in-memory member of 4 GiB or more) or a central record (size, compressed size or offset of
 * 0xFFFFFFFF or more), and the ZIP64 end record and locator when there are 65,535 members or
 * more or the central directory's offset or size overflows. Small archives are plain ZIP.
 *
 * The central directory (46 bytes + name + 13..41 bytes of extra fields per member) is kept in
 * memory in 64 KiB chunks until `finish`. Names are checked with `checkPath` and written as
 * UTF-8 (flag bit 11); a name may not repeat, and a file may not also be a directory of another
 * member, since the reader refuses such archives.
 */
import { IbtError } from "../errors.js";
import { checkPath } from "../fs/paths.js";
import { ChunkQueue, chunksOf, concatBytes } from "../bytes.js";
import { crc32 } from "./crc32.js";
import { checkDeflatedSize, codecBytes, fflateDeflate } from "./deflate.js";
import { CENTRAL_LEN, DOS_DIRECTORY, END64_LEN, END_LEN, EXTRA_ZIP64, FLAG_DESCRIPTOR, FLAG_UTF8, LOCAL_LEN, LOCATOR64_LEN, METHOD_DEFLATED, METHOD_STORED, RecordWriter, S_IFDIR, S_IFREG, SIG_CENTRAL, SIG_DESCRIPTOR, SIG_END, SIG_END64, SIG_LOCAL, SIG_LOCATOR64, U16_MAX, U32_MAX, VERSION_DEFLATED, VERSION_MADE_BY, VERSION_STORED, VERSION_ZIP64, containsBytes, dosDateTime, signatureBytes, timestampExtra, utf8, } from "./zip-format.js";
/** Streams shorter than this are collected and written like in-memory members; also the probe. */
const PROBE = 64 * 1024;
/** Deflate input piece size: fixed, so output does not depend on the source's chunking. */
const DEFLATE_PIECE = 64 * 1024;
/** Stored stream chunks smaller than this are gathered into pieces of this size for the sink. */
const SMALL_CHUNK = 64 * 1024;
/** The largest piece of an in-memory member handed to the sink at once. */
const SINK_PIECE = 1024 * 1024;
/** "auto" keeps deflate only when it shrinks data to this fraction or less. */
const AUTO_MAX_RATIO = 15 / 16;
const DEFAULT_LEVEL = 6;
export class ZipWriter {
    #sink;
    #level;
    #codec;
    #offset = 0;
    #count = 0;
    #state = "idle";
    #central = new ChunkQueue();
    /** Every name written ("file" or "dir") and every directory implied by one ("parent"). */
    #names = new Map();
    constructor(sink, options = {}) {
        if (typeof sink !== "function")
            throw new IbtError("BAD_ARGUMENT", "ZipWriter needs a sink function");
        const level = options.level ?? DEFAULT_LEVEL;
        if (!Number.isInteger(level) || level < 0 || level > 9) {
            throw new IbtError("BAD_ARGUMENT", `deflate level ${level} is not an integer in 0..9`);
        }
        this.#sink = sink;
        this.#level = level;
        this.#codec = options.deflate ?? fflateDeflate;
        if (typeof this.#codec?.deflate !== "function")
            throw new IbtError("BAD_ARGUMENT", "the deflate codec has no deflate function");
    }
    /** Bytes handed to the sink so far. */
    get bytesWritten() {
        return this.#offset;
    }
    /** Members written so far. */
    get entryCount() {
        return this.#count;
    }
    /**
     * Adds a file member with the bytes of `source`, read to its end. Members are written one at a
     * time: wait for one `add` before the next. If the source or the sink fails after the first
     * byte reached the sink, the archive is unusable and every later call fails.
     */
    async add(name, source, options = {}) {
        const compress = options.compress ?? "auto";
        if (compress !== true && compress !== false && compress !== "auto") {
            throw new IbtError("BAD_ARGUMENT", `compress must be true, false or "auto", not ${String(compress)}`);
        }
        return this.#member(name, false, options, async (m) => {
            if (source instanceof Uint8Array)
                await this.#writeWhole(m, source, compress);
            else
                await this.#writeStream(m, source, compress);
        });
    }
    /** Adds a directory member ("name/", no data). Parents need no member of their own. */
    async addDirectory(name, options = {}) {
        return this.#member(name, true, options, (m) => this.#writeWhole(m, new Uint8Array(0), false));
    }
    /**
     * Writes the central directory and end records; the archive is complete when this resolves.
     * The comment is UTF-8, at most 65,535 bytes, and may not contain the end record's signature
     * (a reader could take it for the real one).
     */
    async finish(comment = "") {
        const commentBytes = utf8.encode(comment);
        if (commentBytes.length > U16_MAX) {
            throw new IbtError("BAD_ARGUMENT", `archive comment of ${commentBytes.length} bytes: at most 65,535`);
        }
        if (containsBytes(commentBytes, signatureBytes(SIG_END))) {
            throw new IbtError("BAD_ARGUMENT", "archive comment contains the end-of-central-directory signature");
        }
        this.#enter();
        try {
            const cdOffset = this.#offset;
            for (const chunk of this.#central.take(true))
                await this.#write(chunk);
            const cdSize = this.#offset - cdOffset;
            const zip64 = this.#count >= U16_MAX || cdOffset >= U32_MAX || cdSize >= U32_MAX;
            const w = new RecordWriter((zip64 ? END64_LEN + LOCATOR64_LEN : 0) + END_LEN + commentBytes.length);
            if (zip64) {
                w.u32(SIG_END64).u64(END64_LEN - 12).u16(VERSION_MADE_BY).u16(VERSION_ZIP64).u32(0).u32(0);
                w.u64(this.#count).u64(this.#count).u64(cdSize).u64(cdOffset);
                w.u32(SIG_LOCATOR64).u32(0).u64(cdOffset + cdSize).u32(1);
            }
            const count16 = Math.min(this.#count, U16_MAX);
            w.u32(SIG_END).u16(0).u16(0).u16(count16).u16(count16);
            w.u32(Math.min(cdSize, U32_MAX)).u32(Math.min(cdOffset, U32_MAX));
            w.u16(commentBytes.length).raw(commentBytes);
            await this.#write(w.done());
            this.#state = "finished";
            return { size: this.#offset, entries: this.#count };
        }
        catch (e) {
            this.#state = "failed";
            throw e;
        }
    }
    #enter() {
        if (this.#state === "busy") {
            throw new IbtError("BAD_ARGUMENT", "ZipWriter writes one member at a time: await the previous call first");
        }
        if (this.#state === "finished")
            throw new IbtError("BAD_ARGUMENT", "ZipWriter is finished");
        if (this.#state === "failed") {
            throw new IbtError("BAD_ARGUMENT", "ZipWriter failed earlier: its output is incomplete");
        }
        this.#state = "busy";
    }
    async #member(name, isDirectory, options, write) {
        const nameBytes = this.#checkName(name, isDirectory);
        const mtimeMs = options.mtimeMs ?? Date.now();
        if (typeof mtimeMs !== "number" || !Number.isFinite(mtimeMs)) {
            throw new IbtError("BAD_ARGUMENT", `mtimeMs ${String(mtimeMs)} is not a finite number`, { path: name });
        }
        const mode = options.mode ?? (isDirectory ? 0o755 : 0o644);
        if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
            throw new IbtError("BAD_ARGUMENT", `mode ${String(mode)} is not an integer in 0..0o7777`, { path: name });
        }
        this.#enter();
        const m = {
            name,
            nameBytes,
            isDirectory,
            mtimeMs,
            mode,
            offset: this.#offset,
            flags: FLAG_UTF8,
            method: METHOD_STORED,
            crc: 0,
            size: 0,
            compressedSize: 0,
        };
        try {
            await write(m);
        }
        catch (e) {
            // Nothing reached the sink: the archive is still whole, so the writer stays usable.
            this.#state = this.#offset === m.offset ? "idle" : "failed";
            throw e;
        }
        this.#central.append(centralRecord(m));
        this.#count++;
        this.#names.set(name, isDirectory ? "dir" : "file");
        for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
            const parent = name.slice(0, i);
            if (!this.#names.has(parent))
                this.#names.set(parent, "parent");
        }
        this.#state = "idle";
        const { offset, size, compressedSize, crc, method } = m;
        return { name, isDirectory, offset, size, compressedSize, crc32: crc, method };
    }
    /** Checks a member name against the path rules and the names already written. */
    #checkName(name, isDirectory) {
        if (typeof name !== "string" || name === "") {
            throw new IbtError("BAD_ARGUMENT", "a member name must be a non-empty string");
        }
        checkPath(name);
        const seen = this.#names.get(name);
        if (seen === "file" || seen === "dir" || (seen === "parent" && !isDirectory)) {
            throw new IbtError("BAD_ARGUMENT", `${name} is already in the archive${seen === "parent" ? " as a directory" : ""}`, {
                path: name,
            });
        }
        for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
            if (this.#names.get(name.slice(0, i)) === "file") {
                throw new IbtError("BAD_ARGUMENT", `${name.slice(0, i)} is a file in the archive, so ${name} cannot be`, {
                    path: name,
                });
            }
        }
        const bytes = utf8.encode(isDirectory ? `${name}/` : name);
        if (bytes.length > U16_MAX) {
            throw new IbtError("BAD_ARGUMENT", `member name of ${bytes.length} bytes: at most 65,535`, { path: name });
        }
        return bytes;
    }
    async #write(chunk) {
        if (chunk.length === 0)
            return;
        await this.#sink(chunk);
        this.#offset += chunk.length;
    }
    /** A member whose bytes are all at hand: CRC and sizes go in the local header. */
    async #writeWhole(m, data, compress) {
        m.crc = crc32(data);
        m.size = data.length;
        let payload = data;
        if (data.length > 0 && compress !== false) {
            const worthTrying = compress === true || data.length <= PROBE || this.#worthDeflating(m, data.subarray(0, PROBE));
            if (worthTrying) {
                const out = codecBytes(this.#codec.deflate(data, this.#level), m.name);
                checkDeflatedSize(data.length, out.length, m.name);
                if (compress === true || out.length <= data.length * AUTO_MAX_RATIO) {
                    m.method = METHOD_DEFLATED;
                    payload = out;
                }
            }
        }
        m.compressedSize = payload.length;
        const header = localHeader(m);
        if (payload.length <= PROBE) {
            await this.#write(concatBytes([header, payload]));
        }
        else {
            await this.#write(header);
            for (let at = 0; at < payload.length; at += SINK_PIECE)
                await this.#write(payload.subarray(at, at + SINK_PIECE));
        }
    }
    /** A member read from a stream: data as it comes, CRC and sizes in a data descriptor. */
    async #writeStream(m, source, compress) {
        const chunks = chunksOf(source)[Symbol.asyncIterator]();
        let finished = false;
        const next = async () => {
            for (;;) {
                const r = await chunks.next();
                if (r.done) {
                    finished = true;
                    return undefined;
                }
                if (!(r.value instanceof Uint8Array)) {
                    throw new IbtError("BAD_ARGUMENT", "a byte source yielded something other than a Uint8Array", { path: m.name });
                }
                if (r.value.length > 0)
                    return r.value;
            }
        };
        try {
            // Collect past the probe size, or to the end: a short stream is written like bytes in memory.
            const head = [];
            let headLength = 0;
            while (headLength <= PROBE) {
                const chunk = await next();
                if (chunk === undefined)
                    return await this.#writeWhole(m, concatBytes(head), compress);
                head.push(chunk);
                headLength += chunk.length;
            }
            const deflate = compress === true || (compress === "auto" && this.#worthDeflating(m, concatBytes(head).subarray(0, PROBE)));
            m.flags |= FLAG_DESCRIPTOR;
            m.method = deflate ? METHOD_DEFLATED : METHOD_STORED;
            await this.#write(localHeader(m));
            let taken = 0;
            const pull = async () => (taken < head.length ? head[taken++] : next());
            if (deflate)
                await this.#deflateData(m, pull);
            else
                await this.#storeData(m, pull);
            const zip64 = m.size >= U32_MAX || m.compressedSize >= U32_MAX;
            const d = new RecordWriter(zip64 ? 24 : 16).u32(SIG_DESCRIPTOR).u32(m.crc);
            if (zip64)
                d.u64(m.compressedSize).u64(m.size);
            else
                d.u32(m.compressedSize).u32(m.size);
            await this.#write(d.done());
        }
        finally {
            if (!finished)
                await chunks.return?.(undefined);
        }
    }
    async #storeData(m, pull) {
        // Large chunks of the source go to the sink as they are (no copy); small ones are gathered
        // into 64 KiB pieces, so a source of tiny chunks does not become tiny writes.
        const small = new ChunkQueue(SMALL_CHUNK);
        for (let chunk = await pull(); chunk !== undefined; chunk = await pull()) {
            m.crc = crc32(chunk, m.crc);
            m.size += chunk.length;
            if (chunk.length < SMALL_CHUNK) {
                small.append(chunk);
                for (const piece of small.take())
                    await this.#write(piece);
            }
            else {
                for (const piece of small.take(true))
                    await this.#write(piece);
                await this.#write(chunk);
            }
        }
        for (const piece of small.take(true))
            await this.#write(piece);
        m.compressedSize = m.size;
    }
    async #deflateData(m, pull) {
        const codec = this.#codec.deflateStream ? this.#codec : fflateDeflate;
        const deflater = codec.deflateStream(this.#level);
        const push = async (piece, final) => {
            const out = codecBytes(deflater.push(piece, final), m.name);
            m.compressedSize += out.length;
            await this.#write(out);
        };
        const pieces = new ChunkQueue(DEFLATE_PIECE);
        for (let chunk = await pull(); chunk !== undefined; chunk = await pull()) {
            m.crc = crc32(chunk, m.crc);
            m.size += chunk.length;
            pieces.append(chunk);
            for (const piece of pieces.take())
                await push(piece, false);
        }
        await push(pieces.take(true)[0] ?? new Uint8Array(0), true);
        checkDeflatedSize(m.size, m.compressedSize, m.name);
    }
    #worthDeflating(m, probe) {
        return codecBytes(this.#codec.deflate(probe, this.#level), m.name).length <= probe.length * AUTO_MAX_RATIO;
    }
}
function versionNeeded(m, zip64) {
    if (zip64)
        return VERSION_ZIP64;
    return m.method === METHOD_DEFLATED ? VERSION_DEFLATED : VERSION_STORED;
}
/**
 * The local header. A streamed member (flag bit 3) has zeros for CRC and sizes; an in-memory
 * member of 4 GiB or more carries both sizes in a ZIP64 extra field, as APPNOTE 4.5.3 asks.
 */
function localHeader(m) {
    const zip64 = m.size >= U32_MAX || m.compressedSize >= U32_MAX;
    const timestamp = timestampExtra(m.mtimeMs);
    const extraLength = (zip64 ? 20 : 0) + (timestamp?.length ?? 0);
    const { date, time } = dosDateTime(m.mtimeMs);
    const w = new RecordWriter(LOCAL_LEN + m.nameBytes.length + extraLength);
    w.u32(SIG_LOCAL).u16(versionNeeded(m, zip64)).u16(m.flags).u16(m.method).u16(time).u16(date);
    w.u32(m.crc).u32(zip64 ? U32_MAX : m.compressedSize).u32(zip64 ? U32_MAX : m.size);
    w.u16(m.nameBytes.length).u16(extraLength).raw(m.nameBytes);
    if (zip64)
        w.u16(EXTRA_ZIP64).u16(16).u64(m.size).u64(m.compressedSize);
    if (timestamp)
        w.raw(timestamp);
    return w.done();
}
/** The central directory record, with a ZIP64 extra field holding just the values that overflow. */
function centralRecord(m) {
    const bigSize = m.size >= U32_MAX;
    const bigCompressed = m.compressedSize >= U32_MAX;
    const bigOffset = m.offset >= U32_MAX;
    const zip64Length = 8 * (+bigSize + +bigCompressed + +bigOffset);
    const timestamp = timestampExtra(m.mtimeMs);
    const extraLength = (zip64Length > 0 ? 4 + zip64Length : 0) + (timestamp?.length ?? 0);
    const { date, time } = dosDateTime(m.mtimeMs);
    const unixMode = (m.isDirectory ? S_IFDIR : S_IFREG) | m.mode;
    const w = new RecordWriter(CENTRAL_LEN + m.nameBytes.length + extraLength);
    w.u32(SIG_CENTRAL).u16(VERSION_MADE_BY).u16(versionNeeded(m, zip64Length > 0)).u16(m.flags).u16(m.method);
    w.u16(time).u16(date).u32(m.crc);
    w.u32(bigCompressed ? U32_MAX : m.compressedSize).u32(bigSize ? U32_MAX : m.size);
    w.u16(m.nameBytes.length).u16(extraLength).u16(0).u16(0).u16(0);
    w.u32(unixMode * 0x10000 + (m.isDirectory ? DOS_DIRECTORY : 0));
    w.u32(bigOffset ? U32_MAX : m.offset).raw(m.nameBytes);
    if (zip64Length > 0) {
        w.u16(EXTRA_ZIP64).u16(zip64Length);
        if (bigSize)
            w.u64(m.size);
        if (bigCompressed)
            w.u64(m.compressedSize);
        if (bigOffset)
            w.u64(m.offset);
    }
    if (timestamp)
        w.raw(timestamp);
    return w.done();
}
//# sourceMappingURL=zip-write.js.map