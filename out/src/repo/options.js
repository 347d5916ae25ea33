/**
 * The repository's options and progress reports, with every default in one place.
 *
 * Progress callbacks default to no-ops and are called with a fresh object each time, so a
 * caller may keep them. `rate` is bytes per second since the operation's phase began.
 */
import { IbtError } from "../errors.js";
export function resolveOptions(o = {}) {
    const fullShare = o.fullShare ?? 0.5;
    const maxChain = o.maxChain ?? 50;
    if (!(fullShare >= 0))
        throw new IbtError("BAD_ARGUMENT", `fullShare must be a number >= 0, not ${fullShare}`);
    if (!(Number.isInteger(maxChain) && maxChain >= 1))
        throw new IbtError("BAD_ARGUMENT", `maxChain must be an integer >= 1, not ${maxChain}`);
    if (o.deflate !== undefined && typeof o.deflate?.deflate !== "function")
        throw new IbtError("BAD_ARGUMENT", "deflate must be a codec with a deflate function");
    const lock = {};
    if (o.owner)
        lock.owner = o.owner;
    if (o.isAlive)
        lock.isAlive = o.isAlive;
    return { fullShare, maxChain, lock, deflate: o.deflate };
}
/** A reporter for one phase: fills in `phase` and `rate`. */
export function reporter(onProgress, phase) {
    if (!onProgress)
        return () => { };
    const started = Date.now();
    return (files, bytes, totals) => {
        const seconds = (Date.now() - started) / 1000;
        onProgress({ phase, files, bytes, ...totals, rate: seconds > 0 ? bytes / seconds : 0 });
    };
}
export function throwIfAborted(signal) {
    if (signal?.aborted)
        throw new IbtError("ABORTED", "the operation was cancelled", { cause: signal.reason });
}
//# sourceMappingURL=options.js.map