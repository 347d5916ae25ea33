// The folder-backup page (examples/web) end to end in headless Chromium (web-driver.mjs: served
// from 127.0.0.1 exactly as `npm run web` serves it, the system's Chromium, never a downloaded
// one), given real folders from disk through its `<input webkitdirectory>`. It backs up v1, then
// v2, and the test checks what the page lists (two snapshots, the second far smaller), restores
// each snapshot as a ZIP download and compares the unzipped tree (with the real `unzip`) with v1
// and v2 byte for byte, restores into a picked folder, downloads a diff archive, backs up a
// folder given as a directory handle, and provokes the failures the page must explain: a file
// that changed after the folder was picked, a refused permission, and a full storage quota
// (forced with the DevTools protocol's quota override). With IBT_SCREENSHOT=1 a screenshot after
// the second backup goes to docs/web-page.png, which the README shows; otherwise it goes to the
// test's temporary folder, so a test run leaves the working tree clean. The steps run in order on one page. The
// repository is an encrypted one, created with a password as the page asks for; the same page
// against an S3-compatible bucket is web-s3-e2e.mjs.
//
//   npm run test:web      (after npm run build; part of npm run test:browser; IBT_CHROMIUM=/path
//                         picks the browser, as for the rest of the browser suite)
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes, rng } from "../../dist/test/support/helpers.js";
import { findChromium, skipLine } from "./chromium.mjs";
import { openWebPage } from "./web-driver.mjs";
import { BIG, V2_CHANGES, assertSameTree, filesOf, makeVersions, readTree, treeSize, writeTree } from "./web-fixture.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PASSWORD = "correct horse battery staple";
const { path: executablePath, missing = false } = findChromium();
if (missing && process.env.IBT_REQUIRE_BROWSER === "1") throw new Error(skipLine(missing));

describe("the folder-backup web page in headless Chromium", { skip: missing, timeout: 300_000 }, () => {
  let base, web, page, v1, v2;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), "ibt-web-"));
    ({ v1, v2 } = makeVersions(base));
    web = await openWebPage(executablePath, base);
    page = web.page;
  });

  after(async () => {
    await web?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  let rows;
  it("starts empty, then lists a full snapshot of v1 and an incremental one of v2", async () => {
    assert.equal(await page.isVisible("#no-snapshots"), true);
    assert.equal(await web.repoState(), "none");
    assert.equal(await page.isEnabled("#backup"), false, "no backup before a repository is open");
    await web.createRepository(PASSWORD);
    assert.equal(await web.shownError(), undefined);
    assert.equal(await web.repoState(), "unlocked");
    assert.equal(await page.isVisible("#password-form"), false, "no password asked once open");
    assert.equal(await page.isVisible("#s3-settings"), false, "bucket settings only for a bucket");
    await web.backUp(v1);
    assert.equal(await web.shownError(), undefined);
    // Progress reached the page from the worker while it worked: phase, files, bytes and rate.
    const seen = await web.progressSeen();
    const line = /^(Reading the folder|Comparing with the last snapshot|Writing the snapshot|Saving) · [\d,]+ files?( of [\d,]+)? · [\d.]+ (B|KiB|MiB)( of [\d.]+ (B|KiB|MiB))? · [\d.]+ (B|KiB|MiB|GiB)\/s$/;
    assert.ok(seen.length > 0 && seen.every((l) => line.test(l)), seen.join("\n"));
    assert.ok(seen.some((l) => l.startsWith("Writing the snapshot · ")), seen.join("\n"));
    await web.backUp(v2);
    assert.equal(await web.shownError(), undefined);
    rows = (await web.snapshotRows()).reverse(); // the page lists the newest first
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => r.kind), ["full", "incremental"]);
    assert.equal(rows[0].fullSize, treeSize(readTree(v1)));
    assert.equal(rows[1].fullSize, treeSize(readTree(v2)));
    assert.match(await web.status(), new RegExp(`^Backed up project in [\\d.]+ s: incremental snapshot, ${V2_CHANGES} changes, `));
    const screenshot = process.env.IBT_SCREENSHOT === "1" ? join(ROOT, "docs", "web-page.png") : join(base, "web-page.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(statSync(screenshot).size > 0);
  });

  it("the second snapshot stores far less than the first", () => {
    // v1 is mostly incompressible bytes, so its full snapshot stores about its size; v2 changed
    // 16 bytes of the big file and a few small files.
    assert.ok(rows[0].bytesStored > 0.8 * rows[0].fullSize, `full: ${rows[0].bytesStored} of ${rows[0].fullSize}`);
    assert.ok(rows[1].bytesStored < 0.2 * rows[0].bytesStored, `incremental ${rows[1].bytesStored} vs full ${rows[0].bytesStored}`);
    assert.equal(rows[0].changed, readTree(v1).size, "a full snapshot creates every entry");
    assert.equal(rows[1].changed, V2_CHANGES);
    for (const r of rows) assert.match(r.text, /of .*\(\d/, "the row shows stored bytes against the full size");
  });

  it("restores each snapshot as a ZIP download equal to v1 and v2", async () => {
    assertSameTree(await web.restoreAsZip(rows[0].id, "restored-1"), v1);
    assertSameTree(await web.restoreAsZip(rows[1].id, "restored-2"), v2);
  });

  it("restores a snapshot into a picked folder", async () => {
    await web.answerPicker("restore-target");
    await web.finished(() => web.clickIn(rows[0].id, "restore-folder"));
    assert.equal(await web.shownError(), undefined);
    assert.match(await web.status(), /^Restored the snapshot of .* into restore-target: 11 files written, 0 already up to date; /);
    assert.deepEqual(await web.readOpfsFolder("restore-target"), filesOf(readTree(v1)));
  });

  it("explains a folder permission the browser refused", async () => {
    await web.answerPicker("deny");
    await web.clickIn(rows[0].id, "restore-folder");
    await page.waitForSelector("#error:not([hidden])");
    const error = await web.shownError();
    assert.equal(error.reason, "permission", JSON.stringify(error));
    assert.equal(error.title, "Permission denied");
    await page.click("#error-dismiss");
  });

  it("downloads a snapshot's diff archive, a ZIP that unzip accepts", async () => {
    const file = join(base, "diff-2.zip");
    const name = await web.downloadFrom(rows[1].id, "download-diff", file);
    assert.match(name, /^project-.*-incremental\.zip$/);
    assert.equal(statSync(file).size, rows[1].bytesStored);
    const test = spawnSync("unzip", ["-t", file]);
    assert.equal(test.status, 0, `unzip -t: ${test.stdout}${test.stderr}`);
  });

  it("explains a folder that changed after it was picked, and saves nothing", async () => {
    const v3 = join(base, "v3", "project");
    writeTree(v3, Object.fromEntries(filesOf(readTree(v2))));
    await page.setInputFiles("#folder-input", v3);
    // The browser recorded each file's size and time when it was picked; change both.
    writeFileSync(join(v3, BIG), randomBytes(rng(3), 1000));
    utimesSync(join(v3, BIG), new Date(), new Date(Date.now() + 5_000));
    await web.finished(() => page.click("#backup"));
    const error = await web.shownError();
    assert.equal(error.reason, "changed", JSON.stringify(error));
    assert.equal(error.title, "The folder changed while it was read");
    assert.match(error.detail, /data\/big\.bin/);
    assert.equal((await web.snapshotRows()).length, 2);
  });

  it("backs up a folder chosen with the directory picker (a HandleFs over its handle)", async () => {
    const files = filesOf(readTree(v2));
    await web.writeOpfsFolder("picked-source", files);
    await web.answerPicker("picked-source");
    await page.click("#pick-folder");
    await page.waitForFunction(() => document.getElementById("source-info").textContent.startsWith("picked-source"));
    await web.finished(() => page.click("#backup"));
    assert.equal(await web.shownError(), undefined);
    const [newest] = await web.snapshotRows();
    assert.match(newest.text, /picked-source/);
    assert.equal(newest.fullSize, treeSize(files));
    assert.deepEqual(filesOf(readTree(await web.restoreAsZip(newest.id, "restored-picked", /^picked-source-.*-restored\.zip$/))), files);
  });

  it("explains a full storage quota, saves nothing, and backs up once there is room", async () => {
    const v4 = join(base, "v4", "project");
    writeTree(v4, { ...Object.fromEntries(filesOf(readTree(v2))), "data/more.bin": randomBytes(rng(4), 2 << 20) });
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    await web.overrideQuota(usage + 256 * 1024); // less room than the new file needs
    try {
      await web.backUp(v4);
      const error = await web.shownError();
      assert.equal(error?.reason, "quota", JSON.stringify(error));
      assert.equal(error.title, "Storage is full");
      assert.equal((await web.snapshotRows()).length, 3);
    } finally {
      await web.overrideQuota();
    }
    // The failed backup left the repository usable: with room again, the same folder backs up.
    await web.backUp(v4);
    assert.equal(await web.shownError(), undefined);
    const after = await web.snapshotRows();
    assert.equal(after.length, 4);
    assert.equal(after[0].fullSize, treeSize(readTree(v4)));
  });

  it("deletes every snapshot after confirming, and starts over with a full backup", async () => {
    page.once("dialog", (dialog) => dialog.accept());
    await web.finished(() => page.click("#erase"));
    assert.equal(await web.shownError(), undefined);
    assert.deepEqual(await web.snapshotRows(), []);
    assert.equal(await page.isVisible("#no-snapshots"), true);
    assert.equal(await web.repoState(), "none", "erasing removed the keys too: a new password creates a new repository");
    await web.createRepository(PASSWORD);
    await web.backUp(v2);
    const rowsAfter = await web.snapshotRows();
    assert.deepEqual(rowsAfter.map((r) => r.kind), ["full"]);
  });
});
