/**
 * The web page's errors across its worker boundary (examples/web/errors.ts), in Node: the
 * reason is read from the cause chain before postMessage drops it, the wire form survives
 * structured cloning, and each reason gets its own explanation. The end-to-end test provokes
 * "changed" and "quota" in Chromium; a denied permission needs a person at a browser prompt,
 * so this is where its mapping is checked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IbtError } from "../../src/index.js";
import { explain, explainPicker, reasonOf, toWire } from "../../examples/web/errors.js";
const dom = (name) => new DOMException(`${name} happened`, name);
test("the reason comes from the cause chain: quota, permission, changed, other", () => {
    const quota = new IbtError("IO", "writeFile: storage quota exceeded: a", { path: "a", cause: dom("QuotaExceededError") });
    assert.equal(reasonOf(quota), "quota");
    assert.equal(reasonOf(new IbtError("ABORTED", "backup stopped", { cause: quota })), "quota", "found below a wrapping error");
    assert.equal(reasonOf(new IbtError("IO", "list: no permission to read: x", { cause: dom("NotAllowedError") })), "permission");
    assert.equal(reasonOf(dom("SecurityError")), "permission");
    assert.equal(reasonOf(new IbtError("READ_ONLY", "no permission to write")), "permission");
    assert.equal(reasonOf(new IbtError("CHANGED", "a changed while it was read", { path: "a" })), "changed");
    assert.equal(reasonOf(new IbtError("IO", "disk on fire", { cause: dom("NotFoundError") })), "other");
    assert.equal(reasonOf(new Error("plain")), "other");
});
test("a wire error survives structured cloning and explains itself", () => {
    const wire = structuredClone(toWire(new IbtError("CHANGED", "readStream: the file changed", { path: "notes/a.txt", caller: "readStream" })));
    assert.deepEqual(wire, { name: "IbtError", code: "CHANGED", message: "readStream: the file changed", path: "notes/a.txt", caller: "readStream", reason: "changed" });
    const shown = explain(wire, "Backup");
    assert.equal(shown.title, "The folder changed while it was read");
    assert.match(shown.detail, /\(notes\/a\.txt\)/);
    assert.match(shown.detail, /\[CHANGED: readStream: the file changed\]$/);
});
test("each reason has its own headline; other errors name the action and keep the code", () => {
    const of = (e) => explain(structuredClone(toWire(e)), "Restore").title;
    assert.equal(of(new IbtError("IO", "q", { cause: dom("QuotaExceededError") })), "Storage is full");
    assert.equal(of(new IbtError("READ_ONLY", "no permission to write into the chosen folder")), "Permission denied");
    const other = explain(structuredClone(toWire(new TypeError("boom"))), "Restore");
    assert.deepEqual([other.title, other.detail, other.code], ["Restore failed", "TypeError: boom", "UNKNOWN"]);
    assert.equal(explain(toWire(new IbtError("CORRUPT", "bad manifest")), "Restore").detail, "CORRUPT: bad manifest");
});
test("a cancelled picker is no error; a refused one is a denied permission", () => {
    assert.equal(explainPicker(dom("AbortError")), undefined);
    assert.equal(explainPicker(dom("NotAllowedError"))?.title, "Permission denied");
    assert.equal(explainPicker(dom("SecurityError"))?.reason, "permission");
    assert.equal(explainPicker(new Error("odd"))?.title, "Choosing a folder failed");
});
//# sourceMappingURL=web-errors.test.js.map