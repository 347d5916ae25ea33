/**
 * The part of node:assert/strict the shared suites use, for the browser: the bundler maps
 * "node:assert/strict" here. Same semantics where the suites can tell: `equal` is `Object.is`,
 * `deepEqual` is strict (same prototypes, typed arrays element by element), `rejects` takes a
 * promise or a function and a validator function.
 */
export class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = "AssertionError";
    }
}
const show = (v) => {
    if (ArrayBuffer.isView(v))
        return `${v.constructor.name}(${v.length})`;
    try {
        return typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n` : (JSON.stringify(v) ?? String(v));
    }
    catch {
        return String(v);
    }
};
function fail(message, fallback = "Failed") {
    if (message instanceof Error)
        throw message;
    throw new AssertionError(message ?? fallback);
}
function ok(value, message) {
    if (!value)
        fail(message, `The expression evaluated to a falsy value: ${show(value)}`);
}
function equal(actual, expected, message) {
    if (!Object.is(actual, expected))
        fail(message, `Expected values to be strictly equal:\n${show(actual)} !== ${show(expected)}`);
}
function notEqual(actual, expected, message) {
    if (Object.is(actual, expected))
        fail(message, `Expected "actual" to be strictly unequal to: ${show(expected)}`);
}
/** Where `a` and `b` first differ, or undefined when they are deeply strictly equal. */
function difference(a, b, at) {
    if (Object.is(a, b))
        return undefined;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null)
        return `${at}: ${show(a)} !== ${show(b)}`;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b))
        return `${at}: different prototypes`;
    if (ArrayBuffer.isView(a)) {
        const x = a;
        const y = b;
        if (x.length !== y.length)
            return `${at}: length ${x.length} !== ${y.length}`;
        for (let i = 0; i < x.length; i++)
            if (!Object.is(x[i], y[i]))
                return `${at}[${i}]: ${x[i]} !== ${y[i]}`;
        return undefined;
    }
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length)
        return `${at}: keys ${show(ka)} vs ${show(kb)}`;
    for (const k of ka) {
        if (!Object.prototype.hasOwnProperty.call(b, k))
            return `${at}: missing key ${k}`;
        const d = difference(a[k], b[k], `${at}.${k}`);
        if (d)
            return d;
    }
    return undefined;
}
function deepEqual(actual, expected, message) {
    const d = difference(actual, expected, "value");
    if (d)
        fail(message, `Expected values to be strictly deep-equal: ${d}\nactual: ${show(actual)}\nexpected: ${show(expected)}`);
}
function match(value, pattern, message) {
    if (!pattern.test(value))
        fail(message, `${show(value)} does not match ${pattern}`);
}
function doesNotMatch(value, pattern, message) {
    if (pattern.test(value))
        fail(message, `${show(value)} matches ${pattern}`);
}
function check(error, validate, message) {
    if (validate && validate(error) !== true) {
        fail(message, `The error does not pass validation: ${error instanceof Error ? error.message : show(error)}`);
    }
}
async function rejects(work, validate, message) {
    try {
        await (typeof work === "function" ? work() : work);
    }
    catch (e) {
        check(e, validate, message);
        return;
    }
    fail(message, "Missing expected rejection.");
}
function throws(work, validate, message) {
    try {
        work();
    }
    catch (e) {
        check(e, validate, message);
        return;
    }
    fail(message, "Missing expected exception.");
}
const assert = Object.assign((value, message) => ok(value, message), {
    AssertionError,
    fail,
    ok,
    equal,
    strictEqual: equal,
    notEqual,
    notStrictEqual: notEqual,
    deepEqual,
    deepStrictEqual: deepEqual,
    match,
    doesNotMatch,
    rejects,
    throws,
    strict: undefined,
});
assert.strict = assert;
export default assert;
export { deepEqual, doesNotMatch, equal, fail, match, notEqual, ok, rejects, throws };
//# sourceMappingURL=assert-shim.js.map