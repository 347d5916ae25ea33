// The folder-backup page (examples/web) end to end in headless Chromium: the page is served
// from 127.0.0.1 exactly as `npm run web` serves it, driven through playwright-core with the
// system's Chromium (never a downloaded one), and given real folders from disk through its
// `<input webkitdirectory>`. It backs up v1, then v2, and the test checks what the page lists
// (two snapshots, the second far smaller), restores each snapshot as a ZIP download and compares
// the unzipped tree (with the real `unzip`) with v1 and v2 byte for byte, downloads a diff
// archive, and provokes two failures the page must explain: a file that changed after the folder
// was picked, and a full storage quota (forced with the DevTools protocol's quota override). A
// screenshot after the second backup goes to docs/web-page.png, which the README shows.
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
import { chromium } from "playwright-core";
import { startWebServer } from "../../examples/web/server.mjs";
import { randomBytes, rng } from "../../dist/test/helpers.js";
import { findChromium, skipLine } from "./chromium.mjs";
import { BIG, V2_CHANGES, makeVersions, readTree, treeSize, writeTree } from "./web-fixture.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SCREENSHOT = join(ROOT, "docs", "web-page.png");
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
const { path: executablePath, missing = false } = findChromium();
if (missing && process.env.IBT_REQUIRE_BROWSER === "1") throw new Error(skipLine(missing));

describe("the folder-backup web page in headless Chromium", { skip: missing, timeout: 300_000 }, () => {
  let base, server, browser, page, v1, v2;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), "ibt-web-"));
    ({ v1, v2 } = makeVersions(base));
    server = await startWebServer();
    browser = await chromium.launch({ executablePath, args: FLAGS });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1240, height: 800 } });
    page = await context.newPage();
    page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
    // A headless browser has no one to answer showDirectoryPicker, so the test answers it: with
    // a folder in OPFS (a real FileSystemDirectoryHandle, writable like a granted picked folder)
    // or with the refusal a browser gives when the user blocks access.
    await context.addInitScript(() => {
      // Every progress line the page shows, kept for the test to read afterwards.
      window.ibtProgressSeen = [];
      document.addEventListener("DOMContentLoaded", () => {
        const line = document.getElementById("progress-text");
        new MutationObserver(() => line.textContent && window.ibtProgressSeen.push(line.textContent)).observe(line, { childList: true, characterData: true, subtree: true });
      });
      window.showDirectoryPicker = async () => {
        const answer = window.ibtPickerAnswer;
        if (answer === "deny") throw new DOMException("The user aborted a request.", "NotAllowedError");
        return (await navigator.storage.getDirectory()).getDirectoryHandle(answer, { create: true });
      };
    });
    await finished(() => page.goto(server.url)); // the page loads its snapshot list first
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** Runs `action` and waits until the page has finished the operation it starts. */
  async function finished(action) {
    const before = await page.evaluate(() => Number(document.body.dataset.done ?? 0));
    const result = await action();
    await page.waitForFunction((n) => Number(document.body.dataset.done ?? 0) > n, before, { timeout: 120_000 });
    return result;
  }

  async function backUp(folder) {
    await page.setInputFiles("#folder-input", folder);
    await finished(() => page.click("#backup"));
  }

  async function snapshotRows() {
    return page.$$eval("#snapshot-rows tr", (rows) =>
      rows.map((r) => ({ ...r.dataset, bytesStored: Number(r.dataset.bytesStored), fullSize: Number(r.dataset.fullSize), changed: Number(r.dataset.changed), text: r.innerText })),
    );
  }

  async function shownError() {
    return page.evaluate(() => {
      const box = document.getElementById("error");
      return box.hidden ? undefined : { reason: box.dataset.reason, title: document.getElementById("error-title").textContent, detail: document.getElementById("error-detail").textContent };
    });
  }

  /** Clicks a button in the snapshot's row and saves the download it starts. */
  async function downloadFrom(id, buttonClass, file) {
    const started = page.waitForEvent("download", { timeout: 120_000 });
    started.catch(() => {}); // awaited below, unless the page reports an error instead
    await finished(() => page.click(`#snapshot-rows tr[data-id="${id}"] button.${buttonClass}`));
    assert.equal(await shownError(), undefined);
    const download = await started;
    await download.saveAs(file);
    return download.suggestedFilename();
  }

  /** Restores a snapshot through the page as a ZIP and unzips it with the real unzip; returns the folder. */
  async function restoredTree(id, name) {
    const zip = join(base, `${name}.zip`);
    const name2 = await downloadFrom(id, "restore-zip", zip);
    assert.match(name2, /^project-.*-restored\.zip$/);
    const out = join(base, name);
    const r = spawnSync("unzip", ["-q", zip, "-d", out]);
    assert.equal(r.status, 0, `unzip failed: ${r.stderr}`);
    return out;
  }

  /** Same paths, same bytes, and (the fixture's times being whole seconds) the same file mtimes. */
  function assertSameTree(actualRoot, expectedRoot) {
    const actual = readTree(actualRoot);
    const expected = readTree(expectedRoot);
    assert.deepEqual([...actual.keys()], [...expected.keys()], "the same paths, files and directories");
    for (const [path, bytes] of expected) {
      if (bytes === null) {
        assert.equal(actual.get(path), null, `${path} is a directory`);
        continue;
      }
      assert.ok(actual.get(path).equals(bytes), `${path} has the same bytes`);
      assert.equal(statSync(join(actualRoot, path)).mtimeMs, statSync(join(expectedRoot, path)).mtimeMs, `${path} has the same mtime`);
    }
  }

  let rows;
  it("starts empty, then lists a full snapshot of v1 and an incremental one of v2", async () => {
    assert.equal(await page.isVisible("#no-snapshots"), true);
    await backUp(v1);
    assert.equal(await shownError(), undefined);
    // Progress reached the page from the worker while it worked: phase, files, bytes and rate.
    const seen = await page.evaluate(() => window.ibtProgressSeen);
    const line = /^(Reading the folder|Comparing with the last snapshot|Writing the snapshot|Saving) · [\d,]+ files?( of [\d,]+)? · [\d.]+ (B|KiB|MiB)( of [\d.]+ (B|KiB|MiB))? · [\d.]+ (B|KiB|MiB|GiB)\/s$/;
    assert.ok(seen.length > 0 && seen.every((l) => line.test(l)), seen.join("\n"));
    assert.ok(seen.some((l) => l.startsWith("Writing the snapshot · ")), seen.join("\n"));
    await backUp(v2);
    assert.equal(await shownError(), undefined);
    rows = (await snapshotRows()).reverse(); // the page lists the newest first
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => r.kind), ["full", "incremental"]);
    assert.equal(rows[0].fullSize, treeSize(readTree(v1)));
    assert.equal(rows[1].fullSize, treeSize(readTree(v2)));
    assert.match(await page.textContent("#status"), new RegExp(`^Backed up project in [\\d.]+ s: incremental snapshot, ${V2_CHANGES} changes, `));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
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
    assertSameTree(await restoredTree(rows[0].id, "restored-1"), v1);
    assertSameTree(await restoredTree(rows[1].id, "restored-2"), v2);
  });

  it("restores a snapshot into a picked folder", async () => {
    await page.evaluate(() => (window.ibtPickerAnswer = "restore-target"));
    await finished(() => page.click(`#snapshot-rows tr[data-id="${rows[0].id}"] button.restore-folder`));
    assert.equal(await shownError(), undefined);
    assert.match(await page.textContent("#status"), /^Restored the snapshot of .* into restore-target\.$/);
    const files = await page.evaluate(async () => {
      const out = {};
      const walk = async (dir, prefix) => {
        for await (const [name, handle] of dir.entries()) {
          const path = prefix + name;
          if (handle.kind === "directory") await walk(handle, `${path}/`);
          else {
            const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
            let binary = "";
            for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
            out[path] = btoa(binary);
          }
        }
      };
      await walk(await (await navigator.storage.getDirectory()).getDirectoryHandle("restore-target"), "");
      return out;
    });
    const expected = [...readTree(v1)].filter(([, bytes]) => bytes !== null);
    assert.deepEqual(Object.keys(files).sort(), expected.map(([path]) => path).sort());
    for (const [path, bytes] of expected) assert.ok(Buffer.from(files[path], "base64").equals(bytes), `${path} has the same bytes`);
  });

  it("explains a folder permission the browser refused", async () => {
    await page.evaluate(() => (window.ibtPickerAnswer = "deny"));
    await page.click(`#snapshot-rows tr[data-id="${rows[0].id}"] button.restore-folder`);
    await page.waitForSelector("#error:not([hidden])");
    const error = await shownError();
    assert.equal(error.reason, "permission", JSON.stringify(error));
    assert.equal(error.title, "Permission denied");
    await page.click("#error-dismiss");
  });

  it("downloads a snapshot's diff archive, a ZIP that unzip accepts", async () => {
    const file = join(base, "diff-2.zip");
    const name = await downloadFrom(rows[1].id, "download-diff", file);
    assert.match(name, /^project-.*-incremental\.zip$/);
    assert.equal(statSync(file).size, rows[1].bytesStored);
    const test = spawnSync("unzip", ["-t", file]);
    assert.equal(test.status, 0, `unzip -t: ${test.stdout}${test.stderr}`);
  });

  it("explains a folder that changed after it was picked, and saves nothing", async () => {
    const v3 = join(base, "v3", "project");
    writeTree(v3, Object.fromEntries([...readTree(v2)].filter(([, b]) => b !== null)));
    await page.setInputFiles("#folder-input", v3);
    // The browser recorded each file's size and time when it was picked; change both.
    writeFileSync(join(v3, BIG), randomBytes(rng(3), 1000));
    utimesSync(join(v3, BIG), new Date(), new Date(Date.now() + 5_000));
    await finished(() => page.click("#backup"));
    const error = await shownError();
    assert.equal(error.reason, "changed", JSON.stringify(error));
    assert.equal(error.title, "The folder changed while it was read");
    assert.match(error.detail, /data\/big\.bin/);
    assert.equal((await snapshotRows()).length, 2);
  });

  it("explains a full storage quota, saves nothing, and backs up once there is room", async () => {
    const cdp = await page.context().newCDPSession(page);
    const origin = new URL(server.url).origin;
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    const v4 = join(base, "v4", "project");
    writeTree(v4, { ...Object.fromEntries([...readTree(v2)].filter(([, b]) => b !== null)), "data/more.bin": randomBytes(rng(4), 2 << 20) });
    // Leave less room than the new file needs.
    await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: usage + 256 * 1024 });
    try {
      await backUp(v4);
      const error = await shownError();
      assert.equal(error?.reason, "quota", JSON.stringify(error));
      assert.equal(error.title, "Storage is full");
      assert.equal((await snapshotRows()).length, 2);
    } finally {
      await cdp.send("Storage.overrideQuotaForOrigin", { origin });
    }
    // The failed backup left the repository usable: with room again, the same folder backs up.
    await backUp(v4);
    assert.equal(await shownError(), undefined);
    const after = await snapshotRows();
    assert.equal(after.length, 3);
    assert.equal(after[0].fullSize, treeSize(readTree(v4)));
  });
});
