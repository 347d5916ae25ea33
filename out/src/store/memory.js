/**
 * A Store in memory: for tests, for edge scripts that keep a repository for one request, and as
 * the reference the conformance suite holds every other store to. It follows the contract to
 * the letter, including whole-or-nothing saves (the stream is read to its end before the object
 * appears) and copies in both directions, so no caller can change a stored object by keeping a
 * reference.
 */
import { chunksOf, concatBytes } from "../bytes.js";
import { IbtError } from "../errors.js";
import { checkObjectName } from "./types.js";
export class MemoryStore {
    location;
    objects = new Map();
    constructor(location = "memory") {
        this.location = location;
    }
    async save(name, data, options = {}) {
        checkObjectName(name, "save");
        checkSignal(options.signal);
        if (options.ifAbsent && this.objects.has(name))
            throw exists(name);
        let bytes;
        if (data instanceof Uint8Array)
            bytes = data.slice();
        else {
            const chunks = [];
            for await (const chunk of chunksOf(data)) {
                checkSignal(options.signal);
                chunks.push(chunk.slice());
            }
            bytes = concatBytes(chunks);
        }
        // Checked again: another save may have created it while the stream was read.
        if (options.ifAbsent && this.objects.has(name))
            throw exists(name);
        this.objects.set(name, bytes);
    }
    async load(name, options = {}) {
        checkObjectName(name, "load");
        checkSignal(options.signal);
        const bytes = this.get(name, "load");
        const offset = options.offset ?? 0;
        if (!Number.isSafeInteger(offset) || offset < 0 || (options.length !== undefined && (!Number.isSafeInteger(options.length) || options.length < 0))) {
            throw new IbtError("BAD_ARGUMENT", `load: bad range for ${name}`, { path: name, caller: "load" });
        }
        const end = options.length === undefined ? bytes.length : Math.min(bytes.length, offset + options.length);
        return bytes.slice(Math.min(offset, bytes.length), end);
    }
    async *loadStream(name, options = {}) {
        checkObjectName(name, "loadStream");
        checkSignal(options.signal);
        const bytes = this.get(name, "loadStream");
        const step = 1 << 20;
        for (let at = 0; at < bytes.length; at += step)
            yield bytes.slice(at, at + step);
    }
    async stat(name) {
        checkObjectName(name, "stat");
        return { name, size: this.get(name, "stat").length };
    }
    async *list(prefix, options = {}) {
        checkSignal(options.signal);
        const names = [...this.objects.keys()].filter((n) => n.startsWith(prefix));
        for (const name of names) {
            const bytes = this.objects.get(name);
            if (bytes)
                yield { name, size: bytes.length };
        }
    }
    async remove(name, options = {}) {
        checkObjectName(name, "remove");
        checkSignal(options.signal);
        this.objects.delete(name);
    }
    get(name, caller) {
        const bytes = this.objects.get(name);
        if (!bytes)
            throw new IbtError("NOT_FOUND", `${caller}: no object ${name}`, { path: name, caller });
        return bytes;
    }
}
function exists(name) {
    return new IbtError("EXISTS", `save: object ${name} exists`, { path: name, caller: "save" });
}
function checkSignal(signal) {
    if (signal?.aborted)
        throw new IbtError("ABORTED", "the operation was cancelled", { cause: signal.reason });
}
//# sourceMappingURL=memory.js.map