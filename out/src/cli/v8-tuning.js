/**
 * V8 settings for the command line, whose process runs one command and exits. They are V8's own
 * flags, set at run time, and only on the V8 they were measured on (Node 20's, 11.3): V8 does
 * not refuse a flag it does not know, it prints an error line on stderr and goes on, so on any
 * other version nothing is set. The library never sets them; only this process-owning entry
 * (the starter, src/cli/start.ts, before it compiles the bundle) does.
 *
 * Measured on the bench/dirs.mjs change (5,000 files, ibt diff --index), medians of 9:
 *
 * - The optimizing compiler's budget, eight times V8's default (67,584). By default V8 starts
 *   optimizing a function after little use; in a run this short it spent more CPU (and about
 *   4,000 fresh pages of memory) compiling the step's code than the step then ran it for. A
 *   budget of 500,000 measured user CPU 0.73 → 0.54 s, page faults 20,200 → 16,200 and wall
 *   time 0.66 → 0.61 s; 1,000,000 gave 0.63 s. Hot loops in long runs are still optimized.
 *
 * - The young generation held at its starting size while the run is short. V8 doubles the
 *   young generation as objects survive, up to 16 MiB a half, and every page it grows into is
 *   memory the process has not touched before: a page fault each, about 13 µs apiece on this
 *   kind of VM. Kept at its first size, the diff step measured page faults 16,700 → 12,300,
 *   user CPU 0.52 → 0.45 s and wall time 0.62 → 0.56 s. A long run pays for it instead, in
 *   scavenges that promote more. Small files, a diff against an index of 20,000 took 0.72 →
 *   0.64 s (medians of 7), against one of 50,000 1.26 → 1.30 s, and a first index of the 50,000
 *   4.98 → 5.58 s (medians of 5). So a command that knows how much it will walk (the previous
 *   index's entries) lets the generation grow past LONG_RUN_ENTRIES, between the two sizes,
 *   and a first index, which walks an unknown tree, lets it grow from the start. Held from the
 *   start rather than from the index's load: faults 14,100 at the load against 11,900.
 */
import { setFlagsFromString } from "node:v8";
/** Entries past which a run is long enough for a growing young generation to pay. */
export const LONG_RUN_ENTRIES = 30_000;
/** The V8 these flags were measured on; elsewhere none is set. */
const MEASURED_ON = /^11\.3\./;
function setFlag(flag) {
    if (!MEASURED_ON.test(process.versions.v8 ?? ""))
        return;
    try {
        setFlagsFromString(flag);
    }
    catch {
        // a runtime whose node:v8 has no setFlagsFromString: its defaults apply
    }
}
/**
 * Called first thing: settings for a short run. A command that can tell its size calls
 * `expectEntries` as soon as it can; any other calls it with undefined before it starts.
 */
export function tuneForShortRun() {
    setFlag("--interrupt-budget=540672");
    setFlag("--semi-space-growth-factor=1");
}
/**
 * How many entries the command will walk (undefined: unknown, so perhaps many). Past
 * LONG_RUN_ENTRIES, or unknown, the young generation grows as V8 would grow it (its default
 * factor, 2). The earlier the call, the less the young generation has had to grow: after the
 * previous index loads, not after the walk.
 */
export function expectEntries(entries) {
    if (entries === undefined || entries > LONG_RUN_ENTRIES)
        setFlag("--semi-space-growth-factor=2");
}
//# sourceMappingURL=v8-tuning.js.map