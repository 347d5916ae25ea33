import * as fmt from "./format.js";
import { explain, explainPicker } from "./errors.js";
const picker = window.showDirectoryPicker?.bind(window);
const $ = (id) => document.getElementById(id);
const ui = {
    pick: $("pick-folder"),
    input: $("folder-input"),
    source: $("source-info"),
    backup: $("backup"),
    progress: $("progress"),
    progressText: $("progress-text"),
    error: $("error"),
    errorTitle: $("error-title"),
    errorDetail: $("error-detail"),
    errorDismiss: $("error-dismiss"),
    table: $("snapshots"),
    rows: $("snapshot-rows"),
    empty: $("no-snapshots"),
    erase: $("erase"),
    status: $("status"),
    storage: $("storage"),
};
/** The worker, as promises: one per request, progress through a callback. */
class BackupWorker {
    worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "ibt-backup" });
    pending = new Map();
    next = 1;
    constructor() {
        this.worker.onmessage = (event) => {
            const message = event.data;
            const call = this.pending.get(message.seq);
            if (!call)
                return;
            if (message.type === "progress")
                return call.onProgress(message.progress);
            this.pending.delete(message.seq);
            if (message.type === "done")
                call.resolve(message.result);
            else
                call.reject(explain(message.error, call.action));
        };
        this.worker.onerror = (event) => {
            // The worker script itself failed (it did not load, or threw outside a request).
            const error = explain({ code: "UNKNOWN", name: "WorkerError", message: event.message || "the backup worker failed", reason: "other" }, "The backup worker");
            for (const call of this.pending.values())
                call.reject(error);
            this.pending.clear();
        };
    }
    call(request, action, onProgress = () => { }) {
        const seq = this.next++;
        return new Promise((resolve, reject) => {
            this.pending.set(seq, { resolve: resolve, reject, onProgress, action });
            this.worker.postMessage({ seq, request });
        });
    }
}
const worker = new BackupWorker();
let source;
let done = 0;
/** Runs one operation with the buttons disabled, the progress bar live and errors shown. */
async function busy(label, work) {
    document.body.dataset.state = "busy";
    hideError();
    setButtons(false);
    ui.status.textContent = `${label}…`;
    ui.progress.removeAttribute("value"); // indeterminate until the first report
    ui.progressText.textContent = "";
    try {
        const result = await work(showProgress);
        ui.progressText.textContent = ""; // the status line now says how it ended
        return result;
    }
    catch (e) {
        showError(isExplained(e) ? e : explain({ code: "UNKNOWN", message: String(e), reason: "other" }, label));
        ui.status.textContent = "";
        return undefined;
    }
    finally {
        ui.progress.value = 0;
        setButtons(true);
        document.body.dataset.state = "idle";
        document.body.dataset.done = String(++done);
        void showStorage();
    }
}
const PHASES = {
    index: "Reading the folder",
    diff: "Comparing with the last snapshot",
    write: "Writing the snapshot",
    commit: "Saving",
    restore: "Restoring",
    verify: "Verifying",
};
function showProgress(p) {
    const whole = p.totalBytes ? p.bytes / p.totalBytes : p.totalFiles ? p.files / p.totalFiles : undefined;
    if (whole === undefined)
        ui.progress.removeAttribute("value");
    else
        ui.progress.value = Math.min(1, whole);
    const files = p.totalFiles !== undefined ? `${fmt.count(p.files, "file")} of ${p.totalFiles.toLocaleString("en")}` : fmt.count(p.files, "file");
    const size = p.totalBytes !== undefined ? `${fmt.bytes(p.bytes)} of ${fmt.bytes(p.totalBytes)}` : fmt.bytes(p.bytes);
    ui.progressText.textContent = `${PHASES[p.phase]} · ${files} · ${size} · ${fmt.bytes(Math.round(p.rate))}/s`;
}
function setButtons(enabled) {
    for (const button of document.querySelectorAll("button.action"))
        button.disabled = !enabled;
    ui.input.disabled = !enabled;
    ui.backup.disabled = !enabled || source === undefined;
}
function showError(e) {
    ui.errorTitle.textContent = e.title;
    ui.errorDetail.textContent = e.detail;
    ui.error.dataset.reason = e.reason;
    ui.error.dataset.code = e.code;
    ui.error.hidden = false;
}
function hideError() {
    ui.error.hidden = true;
}
function isExplained(e) {
    return typeof e === "object" && e !== null && "title" in e && "detail" in e && "reason" in e;
}
function drawSnapshots(snapshots) {
    ui.rows.replaceChildren(...[...snapshots].reverse().map(row));
    ui.table.hidden = snapshots.length === 0;
    ui.empty.hidden = snapshots.length > 0;
    ui.erase.hidden = snapshots.length === 0;
}
function row(s) {
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, { id: s.id, kind: s.kind, changed: String(s.changed), bytesStored: String(s.bytesStored), fullSize: String(s.fullSize) });
    const cell = (text, className = "") => {
        const td = document.createElement("td");
        td.textContent = text;
        if (className)
            td.className = className;
        tr.append(td);
        return td;
    };
    cell(fmt.date(s.time), "date").title = s.time;
    cell(s.kind === "full" ? "full" : "incremental", `kind ${s.kind}`);
    cell(s.source);
    cell(s.files.toLocaleString("en"), "num");
    cell(s.changed.toLocaleString("en"), "num");
    const stored = cell("", "stored");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.setProperty("--share", String(s.fullSize > 0 ? Math.min(1, s.bytesStored / s.fullSize) : 0));
    stored.append(bar, `${fmt.bytes(s.bytesStored)} of ${fmt.bytes(s.fullSize)} (${fmt.percent(s.bytesStored, s.fullSize)})`);
    const actions = cell("", "actions");
    actions.append(button("Download diff", "download-diff", () => downloadDiff(s)), button("Restore as ZIP", "restore-zip", () => restoreZip(s)));
    if (picker)
        actions.append(button("Restore to folder…", "restore-folder", () => restoreFolder(s)));
    return tr;
}
function button(text, name, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.className = `action ${name}`;
    b.disabled = document.body.dataset.state === "busy";
    b.addEventListener("click", onClick);
    return b;
}
function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    // The download has its own reference once started; the URL is only needed for the click.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
async function refresh() {
    await busy("Loading snapshots", async () => {
        drawSnapshots(await worker.call({ op: "snapshots" }, "Loading snapshots"));
        ui.status.textContent = "";
    });
}
async function backup() {
    if (!source)
        return;
    const chosen = source;
    await busy(`Backing up ${chosen.name}`, async (onProgress) => {
        const started = performance.now();
        const { snapshot, snapshots } = await worker.call({ op: "backup", source: chosen }, "Backup", onProgress);
        drawSnapshots(snapshots);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        ui.status.textContent =
            `Backed up ${chosen.name} in ${seconds} s: ${snapshot.kind} snapshot, ${fmt.count(snapshot.changed, "change")}, ` +
                `${fmt.bytes(snapshot.bytesStored)} stored for ${fmt.bytes(snapshot.fullSize)} of files.`;
    });
}
async function downloadDiff(s) {
    await busy("Preparing the diff archive", async () => {
        const { blob, name } = await worker.call({ op: "archive", id: s.id }, "Downloading the diff archive");
        download(blob, name);
        ui.status.textContent = `Downloaded ${name} (${fmt.bytes(blob.size)}).`;
    });
}
async function restoreZip(s) {
    await busy("Restoring into a ZIP", async (onProgress) => {
        const { blob, name, files } = await worker.call({ op: "restoreZip", id: s.id }, "Restore", onProgress);
        download(blob, name);
        ui.status.textContent = `Restored ${fmt.count(files, "file")} into ${name} (${fmt.bytes(blob.size)}).`;
    });
}
async function restoreFolder(s) {
    let handle;
    try {
        handle = await picker({ id: "ibt-restore", mode: "readwrite" });
    }
    catch (e) {
        const explained = explainPicker(e);
        if (explained)
            showError(explained);
        return;
    }
    await busy(`Restoring into ${handle.name}`, async (onProgress) => {
        const result = await worker.call({ op: "restoreFolder", id: s.id, handle }, "Restore", onProgress);
        // Restore writes only what differs and leaves alone what the snapshot does not have.
        ui.status.textContent =
            `Restored the snapshot of ${fmt.date(s.time)} into ${handle.name}: ${fmt.count(result.files, "file")} written, ` +
                `${result.unchanged.toLocaleString("en")} already up to date; other files there were left alone.`;
    });
}
async function showStorage() {
    const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
    ui.storage.textContent =
        estimate?.usage !== undefined && estimate.quota !== undefined ? `This site uses ${fmt.bytes(estimate.usage)} of ${fmt.bytes(estimate.quota)} of browser storage.` : "";
}
function chooseSource(next, info) {
    source = next;
    ui.source.textContent = info;
    ui.backup.disabled = document.body.dataset.state === "busy";
    hideError();
}
ui.pick.hidden = !picker;
ui.pick.addEventListener("click", async () => {
    try {
        const handle = await picker({ id: "ibt-source", mode: "read" });
        chooseSource({ kind: "handle", name: handle.name, handle }, `${handle.name} (chosen with the folder picker)`);
    }
    catch (e) {
        const explained = explainPicker(e);
        if (explained)
            showError(explained);
    }
});
ui.input.addEventListener("change", () => {
    const files = Array.from(ui.input.files ?? []);
    if (files.length === 0)
        return; // cancelled, or an empty folder, which the input cannot deliver
    const paths = files.map((f) => f.webkitRelativePath);
    const name = paths[0]?.split("/")[0] || "folder";
    const size = files.reduce((n, f) => n + f.size, 0);
    chooseSource({ kind: "files", name, files, paths }, `${name}: ${fmt.count(files.length, "file")}, ${fmt.bytes(size)}`);
    // Choosing the same folder again must fire "change" again (after it changed on disk, say).
    ui.input.value = "";
});
ui.backup.addEventListener("click", () => void backup());
ui.errorDismiss.addEventListener("click", hideError);
ui.erase.addEventListener("click", async () => {
    if (!confirm("Delete every snapshot stored in this browser?"))
        return;
    await busy("Deleting snapshots", async () => {
        await worker.call({ op: "erase" }, "Deleting snapshots");
        drawSnapshots([]);
        ui.status.textContent = "All snapshots deleted.";
    });
});
void refresh();
//# sourceMappingURL=page.js.map