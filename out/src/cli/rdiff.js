/**
 * The rdiff-compatible commands: signature, delta, patch. Same positional arguments and option
 * letters as rdiff; `-` or a missing argument means stdin/stdout. A file output is written
 * whole or not at all, and an existing output is refused without -f, as rdiff does.
 */
import { IbtError } from "../errors.js";
import { promises as fsp, readFileSync } from "node:fs";
import { SignatureJob } from "../rsync/signature.js";
import { DeltaJob } from "../rsync/delta.js";
import { patchViews } from "../rsync/patch.js";
import { loadSignature } from "../rsync/loadsig.js";
import { fsError } from "../node/files.js";
import { readFileChunksSync, openBasisSync, openReadSync, AtomicFileSync } from "../node/sync-files.js";
import { integer, flag, value } from "./args.js";
export const RDIFF_OPTIONS = [
    { short: "b", long: "block-size", value: true },
    { short: "S", long: "sum-size", value: true },
    { short: "H", long: "hash", value: true },
    { short: "R", long: "rollsum", value: true },
    { short: "f", long: "force" },
    { short: "s", long: "statistics" },
    { short: "I", long: "input-size", value: true },
    { short: "O", long: "output-size", value: true },
    { short: "v", long: "verbose" },
];
export const RDIFF_USAGE = `Usage: ibt [OPTIONS] signature [BASIS [SIGNATURE]]
       ibt [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]
       ibt [OPTIONS] patch BASIS [DELTA [NEWFILE]]

Options (as rdiff's):
  -H, --hash=ALG          strong hash: blake2 (default), md4
  -R, --rollsum=ALG       rolling sum: rabinkarp (default), rollsum
  -b, --block-size=BYTES  signature block size, 0 (default) for recommended
  -S, --sum-size=BYTES    strong sum bytes, 0 (default) for max, -1 for min
  -f, --force             overwrite existing output files
  -s, --statistics        print statistics on stderr
  -I, -O BYTES            accepted for compatibility; buffers are sized automatically
`;
const isStd = (p) => p === undefined || p === "-";
async function* stdinChunks() {
    for await (const c of process.stdin)
        yield c;
}
/** Input chunks; from a file they are views of one reused buffer, consumed before the next. */
function input(path) {
    return isStd(path) ? stdinChunks() : readFileChunksSync(path);
}
function fileSink(path, force) {
    const file = new AtomicFileSync(path, { overwrite: force });
    return {
        write: (v) => file.write(v),
        ready: () => undefined,
        finish: async () => {
            file.commit();
            return file.bytesWritten;
        },
        abort: () => file.abort(),
    };
}
function stdoutSink() {
    let total = 0;
    let blocked = false;
    return {
        write(v) {
            total += v.length;
            // The stream keeps what it is given until flushed, so it gets a copy.
            if (!process.stdout.write(v.slice()))
                blocked = true;
        },
        ready() {
            if (!blocked)
                return undefined;
            blocked = false;
            return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
        },
        finish: async () => total,
        abort: () => { },
    };
}
function openSink(path, force) {
    return isStd(path) ? stdoutSink() : fileSink(path, force);
}
/** Runs `work` into a sink; on any error the partial output is removed. */
async function produce(path, force, work) {
    const sink = openSink(path, force);
    try {
        await work(sink);
        return await sink.finish();
    }
    catch (e) {
        sink.abort();
        throw e;
    }
}
/** Feeds a job from a file (read straight into the engine's memory) or from stdin. */
async function feed(job, path, sink) {
    if (isStd(path)) {
        for await (const chunk of stdinChunks()) {
            job.push(chunk);
            await sink.ready();
        }
    }
    else {
        const file = openReadSync(path);
        try {
            for (;;) {
                const n = file.readInto(job.inputSpace());
                if (n === 0)
                    break;
                job.filled(n);
            }
        }
        finally {
            file.close();
        }
    }
    job.push(new Uint8Array(0), true);
}
function tooMany(p, max, cmd) {
    if (p.positionals.length > max)
        throw new IbtError("BAD_ARGUMENT", `${cmd}: too many arguments`);
}
async function sizeOf(path) {
    if (isStd(path))
        return undefined;
    try {
        const s = await fsp.stat(path);
        return s.isFile() ? s.size : undefined;
    }
    catch (e) {
        throw fsError(e, path);
    }
}
function stats(p, line) {
    if (flag(p, "statistics"))
        process.stderr.write(`ibt: ${line}\n`);
}
export async function signatureCommand(p) {
    tooMany(p, 2, "signature");
    const [basis, sigPath] = p.positionals;
    const hash = (value(p, "hash") ?? "blake2");
    const weak = (value(p, "rollsum") ?? "rabinkarp");
    const size = await sizeOf(basis);
    const opts = { hash, weak, blockLength: integer(p, "block-size") ?? 0, strongLength: integer(p, "sum-size") ?? 0 };
    const started = Date.now();
    const job = await SignatureJob.create(size === undefined ? opts : { ...opts, size });
    const n = await produce(sigPath, flag(p, "force"), async (sink) => {
        job.onview = (v) => sink.write(v);
        await feed(job, basis, sink);
    });
    stats(p, `signature: ${size ?? "?"} bytes in, ${n} bytes out, ${Date.now() - started} ms`);
}
export async function deltaCommand(p) {
    tooMany(p, 3, "delta");
    const [sigPath, newPath, deltaPath] = p.positionals;
    if (sigPath === undefined)
        throw new IbtError("BAD_ARGUMENT", "delta: missing SIGNATURE");
    if (isStd(sigPath) && isStd(newPath))
        throw new IbtError("BAD_ARGUMENT", "delta: SIGNATURE and NEWFILE cannot both be stdin");
    const started = Date.now();
    const sig = await loadSignature(isStd(sigPath) ? stdinChunks() : [readWhole(sigPath)]).catch((e) => {
        throw withPath(e, sigPath);
    });
    const job = await DeltaJob.create(sig);
    const n = await produce(deltaPath, flag(p, "force"), async (sink) => {
        job.onview = (v) => sink.write(v);
        await feed(job, newPath, sink);
    });
    stats(p, `delta: ${sig.count} blocks of ${sig.blockLength}, ${n} bytes out, ${Date.now() - started} ms`);
}
export async function patchCommand(p) {
    tooMany(p, 3, "patch");
    const [basisPath, deltaPath, newPath] = p.positionals;
    if (isStd(basisPath))
        throw new IbtError("BAD_ARGUMENT", "patch: BASIS must be a file (it is read at random offsets)");
    const started = Date.now();
    const basis = openBasisSync(basisPath);
    try {
        const source = input(deltaPath);
        const n = await produce(newPath, flag(p, "force"), async (sink) => {
            for await (const view of patchViews(basis.read, source, { basisSize: basis.size })) {
                sink.write(view);
                await sink.ready();
            }
        }).catch((e) => {
            throw withPath(e, deltaPath);
        });
        stats(p, `patch: ${n} bytes out, ${Date.now() - started} ms`);
    }
    finally {
        basis.close();
    }
}
function readWhole(path) {
    try {
        return readFileSync(path);
    }
    catch (e) {
        throw fsError(e, path);
    }
}
/** Names the input file in a format error that does not name one yet. */
function withPath(e, path) {
    if (e instanceof IbtError && e.path === undefined && !isStd(path)) {
        return new IbtError(e.code, `${path}: ${e.message}`, { path: path, ...(e.offset === undefined ? {} : { offset: e.offset }) });
    }
    return e;
}
//# sourceMappingURL=rdiff.js.map