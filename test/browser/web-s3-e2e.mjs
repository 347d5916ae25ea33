// The folder-backup page (examples/web) against an S3-compatible bucket, end to end in headless
// Chromium: the strict S3 test server (test/support/s3-server.ts, every request's signature
// checked) runs on 127.0.0.1 with exactly the CORS rules the page shows for its own origin, so
// the test also proves that policy is enough. The page creates an encrypted repository in the
// bucket with a password, backs up v1 then v2, lists and restores both (ZIP downloads compared
// byte for byte, as web-e2e.mjs does for this browser's storage); the test then reads the bucket:
// everything under the prefix, key objects present, no file name or content of the fixture in any
// object. It checks what the page keeps: the secret key in localStorage only when "remember" is
// ticked, the password never (nor in IndexedDB); and that a wrong password is explained in words.
//
//   npm run test:web      (after npm run build and npx tsc -b tsconfig.test.json)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { startS3Server } from "../../dist/test/support/s3-server.js";
import { findChromium, skipLine } from "./chromium.mjs";
import { openWebPage } from "./web-driver.mjs";
import { assertSameTree, readTree, treeSize, makeVersions } from "./web-fixture.mjs";

const { path: executablePath, missing = false } = findChromium();
if (missing && process.env.IBT_REQUIRE_BROWSER === "1") throw new Error(skipLine(missing));

const BUCKET = "backups";
const PREFIX = "laptop/project";
const KEY = { accessKeyId: "AKIAWEBPAGETEST00001", secretAccessKey: "web-page-secret/Zk3QmV9xTq2Lp8Rw4Ny6Hs1Jd" };
const PASSWORD = "a long and memorable passphrase";

describe("the folder-backup web page with an S3-compatible bucket, in headless Chromium", { skip: missing, timeout: 300_000 }, () => {
  let base, web, page, v1, v2, s3, policy, settings;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), "ibt-web-s3-"));
    ({ v1, v2 } = makeVersions(base));
    web = await openWebPage(executablePath, base);
    page = web.page;
    policy = JSON.parse(await page.textContent("#cors-policy"));
    s3 = await startS3Server({ credentials: [KEY], buckets: [BUCKET], cors: policy });
    settings = { endpoint: s3.endpoint, bucket: BUCKET, prefix: PREFIX, region: "us-east-1", ...KEY };
  });

  after(async () => {
    await web?.close();
    await s3?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("shows the CORS policy a bucket needs, for its own origin", () => {
    assert.deepEqual(policy, [
      {
        AllowedOrigins: [new URL(web.url).origin],
        AllowedMethods: ["GET", "PUT", "POST", "DELETE", "HEAD"],
        AllowedHeaders: ["authorization", "content-type", "x-amz-*", "range", "if-none-match", "if-match"],
        ExposeHeaders: ["ETag", "content-range", "content-length"],
        MaxAgeSeconds: 3600,
      },
    ]);
  });

  it("the test server answers preflights by that policy and still refuses unsigned requests", async () => {
    const origin = new URL(web.url).origin;
    const ask = (from, method, headers) =>
      fetch(`${s3.endpoint}/${BUCKET}/x`, { method: "OPTIONS", headers: { origin: from, "access-control-request-method": method, "access-control-request-headers": headers } });
    const allowed = await ask(origin, "PUT", "authorization,x-amz-date,x-amz-content-sha256,if-none-match,content-type");
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get("access-control-allow-origin"), origin);
    assert.equal((await ask("http://elsewhere.example", "PUT", "authorization")).status, 403);
    assert.equal((await ask(origin, "PATCH", "authorization")).status, 403);
    assert.equal((await ask(origin, "PUT", "x-custom")).status, 403);
    const unsigned = await fetch(`${s3.endpoint}/${BUCKET}/x`, { headers: { origin } });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get("access-control-allow-origin"), origin, "the refusal is readable by the page");
  });

  let rows;
  it("creates an encrypted repository in the bucket (the password typed twice) and backs up v1, then v2", async () => {
    const firstRequest = s3.log.length;
    await web.useBucket(settings);
    assert.equal(await web.shownError(), undefined);
    assert.equal(await web.repoState(), "none");
    assert.match(await page.textContent("#repo-info"), /new repositories are encrypted/);
    await web.createRepository(PASSWORD, `${PASSWORD}!`);
    assert.equal((await web.shownError())?.title, "The passwords do not match");
    assert.equal(await web.repoState(), "none");
    assert.deepEqual(s3.objects(BUCKET), [], "nothing was written");
    await page.click("#error-dismiss");

    await web.createRepository(PASSWORD);
    assert.equal(await web.shownError(), undefined);
    assert.equal(await web.repoState(), "unlocked");
    await web.backUp(v1);
    assert.equal(await web.shownError(), undefined);
    await web.backUp(v2);
    assert.equal(await web.shownError(), undefined);
    rows = (await web.snapshotRows()).reverse();
    assert.deepEqual(rows.map((r) => r.kind), ["full", "incremental"]);
    assert.equal(rows[0].fullSize, treeSize(readTree(v1)));
    assert.equal(rows[1].fullSize, treeSize(readTree(v2)));
    assert.ok(rows[1].bytesStored < 0.2 * rows[0].bytesStored, `incremental ${rows[1].bytesStored} vs full ${rows[0].bytesStored}`);
    // The browser really went through CORS, and every request it signed passed the server's check.
    assert.ok(s3.log.some((e) => e.method === "OPTIONS" && e.status === 200), "preflights were made");
    assert.deepEqual(s3.log.slice(firstRequest).filter((e) => e.method !== "OPTIONS" && (e.status === 400 || e.status === 403)), []);
    assert.ok(s3.requests("PutObject").length > 0);
  });

  it("restores each snapshot from the bucket as a ZIP download equal to v1 and v2", async () => {
    const firstRequest = s3.log.length;
    assertSameTree(await web.restoreAsZip(rows[0].id, "restored-1"), v1);
    assertSameTree(await web.restoreAsZip(rows[1].id, "restored-2"), v2);
    // Twice the same archives, read in ranges: the browser's cache must not rewrite a signed request.
    assertSameTree(await web.restoreAsZip(rows[1].id, "restored-2-again"), v2);
    const reads = s3.log.slice(firstRequest).filter((e) => e.op === "GetObject");
    assert.ok(reads.some((e) => e.range !== undefined), "restores read ranges");
    assert.deepEqual(reads.filter((e) => e.status >= 400), []);
  });

  it("the bucket holds the repository under the prefix, encrypted: no name or content of the fixture in any object", () => {
    const objects = s3.objects(BUCKET);
    assert.ok(objects.length > 0);
    for (const o of objects) assert.ok(o.key.startsWith(`${PREFIX}/`), o.key);
    assert.ok(objects.some((o) => o.key.startsWith(`${PREFIX}/keys/`)), "a key object");
    assert.ok(objects.some((o) => o.key.startsWith(`${PREFIX}/snapshots/`)), "snapshot records");
    const needles = new Map();
    for (const tree of [readTree(v1), readTree(v2)]) {
      for (const [path, bytes] of tree) {
        if (basename(path).length >= 6) needles.set(`name ${basename(path)}`, Buffer.from(basename(path)));
        if (path.includes("/")) needles.set(`path ${path}`, Buffer.from(path));
        if (bytes && bytes.length >= 64) needles.set(`content of ${path}`, bytes.subarray(0, 64));
      }
    }
    for (const o of objects) {
      const body = Buffer.from(o.body);
      for (const [what, needle] of needles) {
        assert.equal(body.indexOf(needle), -1, `${what} appears in ${o.key}`);
        assert.equal(o.key.includes(needle.toString()), false, `${what} appears in the name ${o.key}`);
      }
    }
  });

  it("keeps neither the secret key nor the password in the page's storage when not asked to remember", async () => {
    const stored = (await web.localStorageEntries()).join("\n");
    assert.equal(stored.includes(KEY.secretAccessKey), false, stored);
    assert.equal(stored.includes(PASSWORD), false, stored);
    assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), []);
    // A reload forgets the bucket: the page opens this browser's storage again.
    await web.reload();
    assert.equal(await page.inputValue("#s3-secret-key"), "");
    assert.equal(await page.isChecked('input[name="where"][value="opfs"]'), true);
  });

  it("explains a wrong password in words, and opens with the right one", async () => {
    await web.useBucket(settings, { remember: true });
    assert.equal(await web.repoState(), "encrypted");
    assert.match(await page.textContent("#repo-info"), /encrypted repository .*Enter its password/);
    await web.unlock("not the password");
    const error = await web.shownError();
    assert.equal(error?.reason, "password", JSON.stringify(error));
    assert.equal(error.title, "Wrong password");
    assert.match(error.detail, /does not open the repository/);
    assert.equal(await web.repoState(), "encrypted");
    assert.deepEqual(await web.snapshotRows(), []);
    await web.unlock(PASSWORD);
    assert.equal(await web.shownError(), undefined);
    assert.deepEqual((await web.snapshotRows()).map((r) => r.id), [rows[1].id, rows[0].id]);
  });

  it("remembers the bucket, secret key included, only when ticked, and never the password", async () => {
    const stored = (await web.localStorageEntries()).join("\n");
    assert.ok(stored.includes(KEY.secretAccessKey), "remembered as asked");
    assert.equal(stored.includes(PASSWORD), false);
    assert.equal(stored.includes("not the password"), false);
    // After a reload the page reconnects to the remembered bucket, locked: the password was not kept.
    await web.reload();
    assert.equal(await web.repoState(), "encrypted");
    assert.equal(await page.inputValue("#password"), "");
    await web.unlock(PASSWORD);
    assert.equal((await web.snapshotRows()).length, 2);
    // Lock forgets the key; unticking forgets the settings at once.
    await web.finished(() => page.click("#lock"));
    assert.equal(await web.repoState(), "encrypted");
    assert.deepEqual(await web.snapshotRows(), []);
    await page.uncheck("#s3-remember");
    assert.deepEqual(await web.localStorageEntries(), []);
  });

  it("deletes the repository from the bucket after confirming", async () => {
    await web.unlock(PASSWORD);
    page.once("dialog", (dialog) => dialog.accept());
    await web.finished(() => page.click("#erase"));
    assert.equal(await web.shownError(), undefined);
    assert.equal(await web.repoState(), "none");
    assert.deepEqual(s3.objects(BUCKET).map((o) => o.key), []);
  });
});
