import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DirIndex } from "../../src/index.js";
import { NodeFs } from "../../src/node/index.js";
import { ROOT, run } from "../support/helpers.js";
test("npm start's main job backs up the sample twice, restores and verifies both, and leaves the sample as it was", async () => {
    const sample = join(ROOT, "examples", "sample");
    const before = (await DirIndex.build(new NodeFs(sample), { signatures: false })).id;
    const r = run(process.execPath, [join(ROOT, "out", "examples", "main-job.js")]);
    assert.equal(r.status, 0, r.stderr.toString());
    const out = r.stdout.toString();
    assert.match(out, /^snapshot +kind +files changed +bytes stored +full size +time$/m);
    const rows = [...out.matchAll(/^([0-9a-f]{16}) +(full|incremental) +(\d+) +(\d+) +(\d+) +\d+ ms$/gm)];
    assert.deepEqual(rows.map((m) => m[2]), ["full", "incremental"]);
    const [full, incremental] = rows.map((m) => ({ changed: Number(m[3]), stored: Number(m[4]), size: Number(m[5]) }));
    assert.ok(full.size > 300_000 && full.stored < full.size, "the full holds the sample, compressed");
    assert.ok(incremental.stored < full.stored / 10, "the incremental stores only the changes");
    assert.match(out, /identical to the trees backed up/);
    assert.match(out, /verify --read-data: ok/);
    assert.equal((await DirIndex.build(new NodeFs(sample), { signatures: false })).id, before, "the shipped sample is untouched");
});
//# sourceMappingURL=main-job.test.js.map