/**
 * Snapshots as the repository stores and lists them.
 *
 * The public `Snapshot` is what callers see; the stored record adds what the repository needs
 * to trust its files: a sequence number (creation order, which `time` need not follow: tests
 * and imports set times), the identity of the tree (the DirIndex id, which the archive's
 * manifest must name as its target), and the size and BLAKE2b-256 of the archive and index
 * files as written, so that `verify` can tell any damaged byte from a good one.
 *
 * A chain is a full snapshot followed by incrementals, each made against the one before; a
 * snapshot's chain is found by walking `parent` links back to a full one. Records that fail
 * their checksum are not listed (they are reported by `verify`), so a chain through one is
 * broken, and that is reported rather than guessed around. A record that cannot be read (IO) is
 * an error, not a damaged record: listing past it would hide a snapshot.
 */
import { IbtError } from "../errors.js";
import { isLockLeftover } from "./lock.js";
import { DATA, INDEXES, SNAPSHOTS, SNAPSHOT_FORMAT, REPOSITORY_VERSION, idOfName, isMissing, listOrEmpty, readRecord, recordPath } from "./layout.js";
export function toSnapshot(r) {
    const { id, parent, kind, time, source, files, dirs, changed, bytesStored, fullSize } = r;
    return { id, parent, kind, time, source, files, dirs, changed, bytesStored, fullSize };
}
const HASH = /^[0-9a-f]{64}$/;
function checkRecord(v, id, path) {
    const bad = (why) => {
        throw new IbtError("CORRUPT", `${path}: ${why}`, { path });
    };
    if (v.format !== SNAPSHOT_FORMAT)
        bad("not a snapshot record");
    if (v.version !== REPOSITORY_VERSION)
        throw new IbtError("UNSUPPORTED", `${path}: snapshot record version ${String(v.version)}`, { path });
    if (v.id !== id)
        bad("its id is not its name");
    if (v.kind !== "full" && v.kind !== "incremental")
        bad("unknown kind");
    if ((v.kind === "full") !== (v.parent === null))
        bad("a full snapshot has no parent, an incremental has one");
    if (v.parent !== null && typeof v.parent !== "string")
        bad("bad parent");
    for (const k of ["seq", "files", "dirs", "changed", "bytesStored", "fullSize"]) {
        if (!Number.isSafeInteger(v[k]) || v[k] < 0)
            bad(`bad ${k}`);
    }
    if (typeof v.time !== "string" || Number.isNaN(Date.parse(v.time)))
        bad("bad time");
    if (typeof v.source !== "string" || typeof v.tree !== "string" || !HASH.test(v.tree))
        bad("bad source or tree");
    for (const k of ["archive", "index"]) {
        const f = v[k];
        if (typeof f !== "object" || f === null || !Number.isSafeInteger(f.size) || typeof f.hash !== "string" || !HASH.test(f.hash))
            bad(`bad ${k}`);
    }
    return v;
}
export async function loadRecord(fs, id) {
    const path = recordPath(id);
    return checkRecord(await readRecord(fs, path), id, path);
}
/** Every readable record, in creation order, and the records that could not be read. */
export async function loadRecords(fs) {
    const records = [];
    const problems = [];
    for (const name of await listOrEmpty(fs, SNAPSHOTS)) {
        const id = idOfName(SNAPSHOTS, name);
        if (id === undefined)
            continue; // a temporary of an interrupted write
        try {
            records.push(await loadRecord(fs, id));
        }
        catch (e) {
            if (!(e instanceof IbtError))
                throw e;
            if (e.code === "NOT_FOUND")
                continue; // removed meanwhile (forget)
            // Only a record damaged for good is passed over; a failed read says nothing about the
            // record, and skipping it would hide a snapshot, or give the next one a used seq.
            if (e.code !== "CORRUPT" && e.code !== "UNSUPPORTED")
                throw e;
            problems.push({ snapshot: id, path: recordPath(id), error: e });
        }
    }
    records.sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
    return { records, problems };
}
/** The chain that `id` restores through: its full snapshot first, `id` last. */
export function chainOf(records, id) {
    const byId = new Map(records.map((r) => [r.id, r]));
    const chain = [];
    let at = byId.get(id);
    if (!at)
        throw new IbtError("NOT_FOUND", `no snapshot ${id} in the repository`);
    for (;;) {
        chain.unshift(at);
        if (at.parent === null)
            return chain;
        const parent = byId.get(at.parent);
        if (!parent || chain.length > records.length) {
            throw new IbtError("CORRUPT", `snapshot ${id}'s chain is broken: its ancestor ${at.parent} is missing or damaged`, { path: recordPath(at.parent) });
        }
        at = parent;
    }
}
/** A snapshot named by a unique prefix of its id, or "latest". */
export function findSnapshot(records, name) {
    if (name === "latest") {
        const last = records.at(-1);
        if (!last)
            throw new IbtError("NOT_FOUND", "the repository has no snapshots");
        return last;
    }
    const hits = records.filter((r) => r.id.startsWith(name));
    if (hits.length === 1)
        return hits[0];
    if (hits.length === 0 || name === "")
        throw new IbtError("NOT_FOUND", `no snapshot ${JSON.stringify(name)} in the repository`);
    throw new IbtError("BAD_ARGUMENT", `snapshot id ${JSON.stringify(name)} is ambiguous (${hits.length} match)`);
}
/**
 * Removes what interrupted writers left: data and index files no record names, temporaries of
 * interrupted writes, and lock candidates and retired locks. Only a lock holder may call this, since another writer's files in
 * flight look exactly like leftovers.
 */
export async function removeLeftovers(fs) {
    // Every record file counts, readable or not: a damaged record's data is evidence for verify.
    const kept = new Set((await listOrEmpty(fs, SNAPSHOTS)).map((n) => idOfName(SNAPSHOTS, n)).filter((id) => id !== undefined));
    const removed = [];
    for (const dir of [SNAPSHOTS, DATA, INDEXES]) {
        for (const name of await listOrEmpty(fs, dir)) {
            const id = idOfName(dir, name);
            if (id !== undefined && (dir === SNAPSHOTS || kept.has(id)))
                continue;
            await fs.remove(`${dir}/${name}`, { recursive: true }).catch((e) => {
                if (!isMissing(e))
                    throw e;
            });
            removed.push(`${dir}/${name}`);
        }
    }
    for (const name of await listOrEmpty(fs, "")) {
        if (!isLockLeftover(name))
            continue;
        await fs.remove(name, { recursive: true }).catch(() => { });
        removed.push(name);
    }
    return removed;
}
//# sourceMappingURL=snapshot.js.map