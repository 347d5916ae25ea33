/**
 * The round trip (index the new tree → diff against the old index → write the archive → apply it
 * to a copy of the old tree) under FaultyFs, with one fault planned per run: every operation of
 * every kind failing in turn (each N up to the count of a clean run), every read coming back
 * short in turn, and the disk filling up after N bytes for N across the bytes a clean run writes.
 *
 * Each run must end in success with exactly the new tree, or in an IbtError that an injected
 * fault caused (never swallowed, never a success with wrong data). Afterwards the target is the
 * old tree, the new tree, or journaled past its commit point; the archive is either absent with
 * nothing left in the store, or complete and valid (it applies to a fresh base copy); and a
 * retry without faults ends with exactly the new tree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DiffData, DiffIndex, DirIndex, MemoryFs, applyDiff, openArchive, IbtError } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { tempDir } from "../support/helpers.js";
import { FUZZ_SCALE, sameSnapshot, snapshot, tally } from "../support/hostile-kit.js";
import { NEW_SPEC, baseTarget, build, validFixture } from "../support/hostile-fixture.js";
import { FAULT_OPS, FaultState, FaultyFs } from "../support/faulty-fs.js";
async function sourceTree(kind) {
    const fs = kind === "memory" ? new MemoryFs() : new NodeFs(tempDir());
    await build(fs, NEW_SPEC);
    await fs.chmod("mode.txt", 0o600);
    await fs.utimes("mode.txt", 1_600_000_000_000 + 4000);
    return fs;
}
async function journaled(fs) {
    for (const name of await fs.list("")) {
        if (name.startsWith(".ibt-staging-") && (await fs.list(name)).includes("journal.json"))
            return true;
    }
    return false;
}
async function roundTrip(kind, fault, check) {
    const { want } = await validFixture();
    const state = new FaultState(fault);
    const source = await sourceTree(kind);
    const target = await baseTarget(kind);
    const store = kind === "memory" ? new MemoryFs() : new NodeFs(tempDir());
    const oldIndex = await DirIndex.build(target.fs);
    const [src, out, dst] = [source, store, target.fs].map((fs) => new FaultyFs(fs, state));
    const outcome = { state };
    try {
        const now = await DirIndex.build(src);
        const diff = new DiffIndex(now, oldIndex).compute();
        await new DiffData(diff, { source: src }).createArchive(out, "d.zip");
        await applyDiff(dst, await openArchive(out, "d.zip"));
    }
    catch (e) {
        outcome.error = e;
    }
    if (!check)
        return outcome;
    const label = `${kind} ${JSON.stringify(fault)}`;
    if (outcome.error !== undefined) {
        assert.ok(outcome.error instanceof IbtError, `${label}: ${String(outcome.error)}`);
        assert.ok(state.injected > 0, `${label}: failed with no fault injected: ${outcome.error.message}`);
    }
    const now = await snapshot(target.fs);
    const done = sameSnapshot(now, want);
    if (outcome.error === undefined)
        assert.ok(done, `${label}: succeeded with a wrong tree`);
    else
        assert.ok(done || sameSnapshot(now, target.before) || (await journaled(target.fs)), `${label}: target is neither old, new nor journaled`);
    const stored = await store.list("");
    if (stored.includes("d.zip")) {
        // Complete and valid: it applies to a fresh base copy.
        const fresh = await baseTarget("memory");
        await applyDiff(fresh.fs, await openArchive(store, "d.zip"));
        assert.ok(sameSnapshot(await snapshot(fresh.fs), want), `${label}: the archive written is not valid`);
        assert.deepEqual(stored, ["d.zip"], `${label}: store leftovers`);
        if (!done)
            await applyDiff(target.fs, await openArchive(store, "d.zip"));
    }
    else {
        assert.deepEqual(stored, [], `${label}: store leftovers`);
        assert.ok(sameSnapshot(now, target.before), `${label}: no archive, yet the target changed`);
        await new DiffData(new DiffIndex(await DirIndex.build(source), oldIndex).compute(), { source }).createArchive(store, "d.zip");
        await applyDiff(target.fs, await openArchive(store, "d.zip"));
    }
    assert.ok(sameSnapshot(await snapshot(target.fs), want), `${label}: a retry without faults did not give the new tree`);
    return outcome;
}
for (const kind of ["memory", "node"]) {
    test(`every fault in the round trip surfaces and loses nothing (${kind})`, async () => {
        const t = tally(`faults: round trip on ${kind === "memory" ? "MemoryFs" : "NodeFs"}`);
        const clean = (await roundTrip(kind, undefined, true)).state;
        assert.equal(clean.injected, 0);
        const faults = [];
        // In memory every N; on disk every fifth in the quick run (every one from IBT_FUZZ_SCALE=5).
        const stride = kind === "memory" ? 1 : Math.max(1, Math.round(5 / FUZZ_SCALE));
        for (const op of FAULT_OPS)
            for (let n = 1; n <= clean.counts[op]; n += stride)
                faults.push({ kind: "fail", op, n });
        for (let n = 1; n <= clean.counts.read; n += stride)
            faults.push({ kind: "short", n });
        const total = (await roundTrip(kind, { kind: "full", bytes: Infinity }, false)).state.bytesWritten;
        for (let i = 0; i < 40; i += stride)
            faults.push({ kind: "full", bytes: Math.floor((total * i) / 40) });
        let failed = 0;
        for (const fault of faults) {
            t.tried++;
            const o = await roundTrip(kind, fault, true);
            t.injected += o.state.injected;
            if (o.error !== undefined) {
                failed++;
                t.refused++;
                const code = o.error.code;
                t.codes[code] = (t.codes[code] ?? 0) + 1;
            }
            else
                t.accepted++;
        }
        assert.ok(t.injected > faults.length * 0.9, `${t.injected} of ${faults.length} planned faults fired`);
        assert.ok(failed > faults.length / 2, `${failed} runs failed`);
        process.stderr.write(`# ${kind}: ${faults.length} runs, ${t.injected} faults fired, ${failed} failed cleanly, counts ${JSON.stringify(clean.counts)}, ${total} bytes written\n`);
    });
}
//# sourceMappingURL=faults.test.js.map