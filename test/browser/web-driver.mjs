// Drives the folder-backup page (examples/web) in the system's headless Chromium for the
// end-to-end test: serves it as `npm run web` does, opens it in a fresh browser profile (so OPFS
// starts empty), and offers the few page operations the test is written in. Operations are
// awaited through `document.body.dataset.done`, which the page bumps when one finishes, so
// nothing here waits for a fixed time.
//
// A headless browser has no one to answer showDirectoryPicker, so the driver answers it: with a
// folder in OPFS named by `answerPicker(name)` (a real FileSystemDirectoryHandle, writable like a
// granted picked folder) or, for "deny", with the refusal a browser gives when the user blocks
// access. It also records every progress line the page shows (`progressSeen`).
//
// The page opens this browser's storage when it loads; a test then creates the encrypted
// repository there (`createRepository`) or chooses a bucket (`useBucket`) first.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startWebServer } from "../../examples/web/server.mjs";

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

export async function openWebPage(executablePath, downloads) {
  const server = await startWebServer();
  const browser = await chromium.launch({ executablePath, args: FLAGS });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1240, height: 800 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await context.addInitScript(() => {
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

  let cdp;

  /** Runs `action` and waits until the page has finished the operation it starts. */
  async function finished(action) {
    const before = await page.evaluate(() => Number(document.body.dataset.done ?? 0));
    const result = await action();
    await page.waitForFunction((n) => Number(document.body.dataset.done ?? 0) > n, before, { timeout: 120_000 });
    return result;
  }

  const web = {
    page,
    url: server.url,
    finished,
    async close() {
      await browser.close();
      await server.close();
    },
    async answerPicker(answer) {
      await page.evaluate((a) => (window.ibtPickerAnswer = a), answer);
    },
    progressSeen: () => page.evaluate(() => window.ibtProgressSeen),
    status: () => page.textContent("#status"),

    /** Reloads the page and waits until it has opened its repository again. */
    async reload() {
      await page.reload();
      await page.waitForFunction(() => Number(document.body.dataset.done ?? 0) > 0, undefined, { timeout: 120_000 });
    },

    /** What the page says is open: "none", "encrypted", "plain", "unlocked" (or "" while connecting). */
    repoState: () => page.evaluate(() => document.body.dataset.repo),

    /** Creates the repository at the chosen place with `password` typed twice (`again` if given). */
    async createRepository(password, again = password) {
      await page.waitForSelector("#password-confirm", { state: "visible" });
      await page.fill("#password", password);
      await page.fill("#password-confirm", again);
      await finished(() => page.click("#unlock"));
    },

    /** Opens the encrypted repository at the chosen place with `password`. */
    async unlock(password) {
      await page.waitForSelector("#password", { state: "visible" });
      await page.fill("#password", password);
      await finished(() => page.click("#unlock"));
    },

    /** Chooses an S3-compatible bucket (`endpoint`, `bucket`, …) and connects to it. */
    async useBucket(settings, { remember = false } = {}) {
      await page.check('input[name="where"][value="s3"]');
      const fields = { endpoint: "#s3-endpoint", bucket: "#s3-bucket", prefix: "#s3-prefix", region: "#s3-region", accessKeyId: "#s3-access-key", secretAccessKey: "#s3-secret-key" };
      for (const [name, selector] of Object.entries(fields)) await page.fill(selector, settings[name] ?? "");
      if (remember) await page.check("#s3-remember");
      else await page.uncheck("#s3-remember");
      await finished(() => page.click("#connect"));
    },

    /** Every localStorage entry of the page's origin, as one string per entry. */
    localStorageEntries: () => page.evaluate(() => Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`)),

    /** Gives the page `folder` through its directory input and backs it up. */
    async backUp(folder) {
      await page.setInputFiles("#folder-input", folder);
      await finished(() => page.click("#backup"));
    },

    /** The listed snapshots, newest first, with the numbers the rows carry. */
    snapshotRows() {
      return page.$$eval("#snapshot-rows tr", (rows) =>
        rows.map((r) => ({ ...r.dataset, bytesStored: Number(r.dataset.bytesStored), fullSize: Number(r.dataset.fullSize), changed: Number(r.dataset.changed), text: r.innerText })),
      );
    },

    /** The error box's reason, title and detail, or undefined when none is shown. */
    shownError() {
      return page.evaluate(() => {
        const box = document.getElementById("error");
        return box.hidden ? undefined : { reason: box.dataset.reason, title: document.getElementById("error-title").textContent, detail: document.getElementById("error-detail").textContent };
      });
    },

    /** Clicks a button in the snapshot's row; saves the download it starts to `file` and returns its name. */
    async downloadFrom(id, buttonClass, file) {
      const started = page.waitForEvent("download", { timeout: 120_000 });
      started.catch(() => {}); // awaited below, unless the page reports an error instead
      await finished(() => web.clickIn(id, buttonClass));
      assert.equal(await web.shownError(), undefined);
      const download = await started;
      await download.saveAs(file);
      return download.suggestedFilename();
    },

    clickIn(id, buttonClass) {
      return page.click(`#snapshot-rows tr[data-id="${id}"] button.${buttonClass}`);
    },

    /** The files (path → bytes) of folder `name` in the page's OPFS. */
    async readOpfsFolder(name) {
      const files = await page.evaluate(async (folder) => {
        const out = [];
        const walk = async (dir, prefix) => {
          for await (const [entry, handle] of dir.entries()) {
            const path = prefix + entry;
            if (handle.kind === "directory") await walk(handle, `${path}/`);
            else {
              const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
              let binary = "";
              for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
              out.push([path, btoa(binary)]);
            }
          }
        };
        await walk(await (await navigator.storage.getDirectory()).getDirectoryHandle(folder), "");
        return out;
      }, name);
      return new Map(files.sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, base64]) => [path, Buffer.from(base64, "base64")]));
    },

    /** Writes `files` (path → bytes) into folder `name` of the page's OPFS. */
    async writeOpfsFolder(name, files) {
      const encoded = [...files].map(([path, bytes]) => [path, Buffer.from(bytes).toString("base64")]);
      await page.evaluate(
        async ([folder, list]) => {
          const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true });
          for (const [path, base64] of list) {
            let dir = root;
            const names = path.split("/");
            for (const segment of names.slice(0, -1)) dir = await dir.getDirectoryHandle(segment, { create: true });
            const writable = await (await dir.getFileHandle(names.at(-1), { create: true })).createWritable();
            await writable.write(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
            await writable.close();
          }
        },
        [name, encoded],
      );
    },

    /**
     * Sets the origin's storage quota through the DevTools protocol; no argument restores it. The
     * override lasts as long as the session that set it, so the session is kept until then.
     */
    async overrideQuota(quotaSize) {
      const origin = new URL(server.url).origin;
      cdp ??= await context.newCDPSession(page);
      await cdp.send("Storage.overrideQuotaForOrigin", quotaSize === undefined ? { origin } : { origin, quotaSize });
    },

    /** Restores a snapshot as a ZIP download and unzips it with the real unzip; returns the folder. */
    async restoreAsZip(id, name, fileName = /^project-.*-restored\.zip$/) {
      const zip = join(downloads, `${name}.zip`);
      assert.match(await web.downloadFrom(id, "restore-zip", zip), fileName);
      const out = join(downloads, name);
      const r = spawnSync("unzip", ["-q", zip, "-d", out]);
      assert.equal(r.status, 0, `unzip failed: ${r.stderr}`);
      return out;
    },
  };
  await finished(() => page.goto(server.url)); // the page loads its snapshot list first
  return web;
}
