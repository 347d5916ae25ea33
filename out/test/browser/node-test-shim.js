/**
 * The part of node:test the shared suites use (`test`, `describe`, `t.skip`, `t.diagnostic`),
 * for the browser: the bundler maps "node:test" here. Tests are collected as they are
 * registered and run one after another by `runCollected`, which reports each result as it comes
 * (the runner in Node prints them) and returns them all.
 */
const pending = [];
const prefix = [];
export function describe(name, body) {
    prefix.push(name);
    try {
        body();
    }
    finally {
        prefix.pop();
    }
}
export function test(name, body) {
    pending.push({ name: [...prefix, name].join(" › "), body });
}
/** Runs (and forgets) every test registered so far, in order. */
export async function runCollected(onResult = () => undefined) {
    const tests = pending.splice(0);
    const results = [];
    for (const { name, body } of tests) {
        let skipped;
        const diagnostics = [];
        const t = {
            skip: (reason = "") => void (skipped = reason),
            diagnostic: (message) => void diagnostics.push(message),
        };
        const start = performance.now();
        let result;
        try {
            await body(t);
            const ms = performance.now() - start;
            result = skipped === undefined ? { name, status: "pass", ms, diagnostics } : { name, status: "skip", ms, detail: skipped, diagnostics };
        }
        catch (e) {
            const detail = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e);
            result = { name, status: "fail", ms: performance.now() - start, detail, diagnostics };
        }
        results.push(result);
        onResult(result);
    }
    return results;
}
//# sourceMappingURL=node-test-shim.js.map