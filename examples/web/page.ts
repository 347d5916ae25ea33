/**
 * The folder-backup page: it picks folders, talks to the backup worker and draws. Nothing heavy
 * runs here, so the page stays responsive while a backup reads and deflates a large folder.
 *
 * Folder picking comes in two forms. Where the browser has `showDirectoryPicker()` (Chromium),
 * a button hands the worker a directory handle; everywhere, an `<input webkitdirectory>` hands
 * it the folder's `File` list. Restoring into a folder needs the picker with `mode: "readwrite"`,
 * so that button exists only where the picker does; a ZIP download works everywhere.
 *
 * The repository is chosen first (settings.ts: this browser's storage or an S3-compatible
 * bucket), then opened with its password, or created with one typed twice: new repositories are
 * encrypted. The password goes to the worker with that one request and is cleared from the form;
 * the page keeps it nowhere. `dataset.repo` says what is open: "none" (nothing there yet),
 * "encrypted" or "plain" (found, still locked), "unlocked".
 *
 * One operation runs at a time: every action button is disabled while the worker is busy, and
 * `document.body.dataset.state` says "busy" or "idle", and `dataset.done` counts finished
 * operations (what the end-to-end test waits on).
 */
import type { Progress, Snapshot } from "../../src/index.js";
import * as fmt from "./format.js";
import { explain, explainPicker, type Explained } from "./errors.js";
import type { Found, FromWorker, Request, Results, SourceSpec, Target, ToWorker } from "./protocol.js";
import { corsPolicy, forget, remember, rememberedSettings, type Settings } from "./settings.js";

interface DirectoryPicker {
  showDirectoryPicker?(options?: { id?: string; mode?: "read" | "readwrite" }): Promise<FileSystemDirectoryHandle>;
}
const picker = (window as unknown as DirectoryPicker).showDirectoryPicker?.bind(window);

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  pick: $<HTMLButtonElement>("pick-folder"),
  input: $<HTMLInputElement>("folder-input"),
  source: $<HTMLParagraphElement>("source-info"),
  backup: $<HTMLButtonElement>("backup"),
  progress: $<HTMLProgressElement>("progress"),
  progressText: $<HTMLParagraphElement>("progress-text"),
  error: $<HTMLDivElement>("error"),
  errorTitle: $<HTMLElement>("error-title"),
  errorDetail: $<HTMLParagraphElement>("error-detail"),
  errorDismiss: $<HTMLButtonElement>("error-dismiss"),
  table: $<HTMLTableElement>("snapshots"),
  rows: $<HTMLTableSectionElement>("snapshot-rows"),
  empty: $<HTMLParagraphElement>("no-snapshots"),
  erase: $<HTMLButtonElement>("erase"),
  status: $<HTMLParagraphElement>("status"),
  storage: $<HTMLParagraphElement>("storage"),
  s3Form: $<HTMLFormElement>("s3-settings"),
  s3: {
    endpoint: $<HTMLInputElement>("s3-endpoint"),
    bucket: $<HTMLInputElement>("s3-bucket"),
    prefix: $<HTMLInputElement>("s3-prefix"),
    region: $<HTMLInputElement>("s3-region"),
    accessKeyId: $<HTMLInputElement>("s3-access-key"),
    secretAccessKey: $<HTMLInputElement>("s3-secret-key"),
  },
  remember: $<HTMLInputElement>("s3-remember"),
  cors: $<HTMLPreElement>("cors-policy"),
  repoInfo: $<HTMLParagraphElement>("repo-info"),
  passwordForm: $<HTMLFormElement>("password-form"),
  password: $<HTMLInputElement>("password"),
  confirm: $<HTMLInputElement>("password-confirm"),
  confirmLabel: $<HTMLLabelElement>("confirm-label"),
  passwordNote: $<HTMLParagraphElement>("password-note"),
  unlock: $<HTMLButtonElement>("unlock"),
  lock: $<HTMLButtonElement>("lock"),
};

/** The worker, as promises: one per request, progress through a callback. */
class BackupWorker {
  private readonly worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "ibt-backup" });
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Explained): void; onProgress(p: Progress): void; action: string }>();
  private next = 1;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      const call = this.pending.get(message.seq);
      if (!call) return;
      if (message.type === "progress") return call.onProgress(message.progress);
      this.pending.delete(message.seq);
      if (message.type === "done") call.resolve(message.result);
      else call.reject(explain(message.error, call.action));
    };
    this.worker.onerror = (event) => {
      // The worker script itself failed (it did not load, or threw outside a request).
      const error = explain({ code: "UNKNOWN", name: "WorkerError", message: event.message || "the backup worker failed", reason: "other" }, "The backup worker");
      for (const call of this.pending.values()) call.reject(error);
      this.pending.clear();
    };
  }

  call<K extends Request["op"]>(request: Extract<Request, { op: K }>, action: string, onProgress: (p: Progress) => void = () => {}): Promise<Results[K]> {
    const seq = this.next++;
    return new Promise<Results[K]>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject, onProgress, action });
      this.worker.postMessage({ seq, request } satisfies ToWorker);
    });
  }
}

const worker = new BackupWorker();
let source: SourceSpec | undefined;
let done = 0;
/** What the worker found at the chosen place, and whether it is unlocked. */
let repo: Found | "unlocked" | undefined;
/** What is stored at the chosen place, locked or not: what Lock goes back to. */
let found: Found | undefined;
/** Where the repository is, in the worker's words (the bucket's URL). */
let repoLocation = "";

/** Runs one operation with the buttons disabled, the progress bar live and errors shown. */
async function busy<T>(label: string, work: (onProgress: (p: Progress) => void) => Promise<T>): Promise<T | undefined> {
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
  } catch (e) {
    showError(isExplained(e) ? e : explain({ code: "UNKNOWN", message: String(e), reason: "other" }, label));
    ui.status.textContent = "";
    return undefined;
  } finally {
    ui.progress.value = 0;
    setButtons(true);
    document.body.dataset.state = "idle";
    document.body.dataset.done = String(++done);
    void showStorage();
  }
}

const PHASES: Record<Progress["phase"], string> = {
  index: "Reading the folder",
  diff: "Comparing with the last snapshot",
  write: "Writing the snapshot",
  commit: "Saving",
  restore: "Restoring",
  verify: "Verifying",
};

function showProgress(p: Progress): void {
  const whole = p.totalBytes ? p.bytes / p.totalBytes : p.totalFiles ? p.files / p.totalFiles : undefined;
  if (whole === undefined) ui.progress.removeAttribute("value");
  else ui.progress.value = Math.min(1, whole);
  const files = p.totalFiles !== undefined ? `${fmt.count(p.files, "file")} of ${p.totalFiles.toLocaleString("en")}` : fmt.count(p.files, "file");
  const size = p.totalBytes !== undefined ? `${fmt.bytes(p.bytes)} of ${fmt.bytes(p.totalBytes)}` : fmt.bytes(p.bytes);
  ui.progressText.textContent = `${PHASES[p.phase]} · ${files} · ${size} · ${fmt.bytes(Math.round(p.rate))}/s`;
}

function setButtons(enabled: boolean): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("button.action")) button.disabled = !enabled;
  ui.input.disabled = !enabled;
  ui.backup.disabled = !enabled || source === undefined || repo !== "unlocked";
}

function showError(e: Explained): void {
  ui.errorTitle.textContent = e.title;
  ui.errorDetail.textContent = e.detail;
  ui.error.dataset.reason = e.reason;
  ui.error.dataset.code = e.code;
  ui.error.hidden = false;
}
function hideError(): void {
  ui.error.hidden = true;
}
function isExplained(e: unknown): e is Explained {
  return typeof e === "object" && e !== null && "title" in e && "detail" in e && "reason" in e;
}

function drawSnapshots(snapshots: Snapshot[]): void {
  ui.rows.replaceChildren(...[...snapshots].reverse().map(row));
  ui.table.hidden = snapshots.length === 0;
  ui.empty.hidden = snapshots.length > 0;
  ui.erase.hidden = snapshots.length === 0;
}

function row(s: Snapshot): HTMLTableRowElement {
  const tr = document.createElement("tr");
  Object.assign(tr.dataset, { id: s.id, kind: s.kind, changed: String(s.changed), bytesStored: String(s.bytesStored), fullSize: String(s.fullSize) });
  const cell = (text: string, className = "") => {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
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
  actions.append(
    button("Download diff", "download-diff", () => downloadDiff(s)),
    button("Restore as ZIP", "restore-zip", () => restoreZip(s)),
  );
  if (picker) actions.append(button("Restore to folder…", "restore-folder", () => restoreFolder(s)));
  return tr;
}

function button(text: string, name: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.className = `action ${name}`;
  b.disabled = document.body.dataset.state === "busy";
  b.addEventListener("click", onClick);
  return b;
}

function download(blob: Blob, name: string): void {
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

function settingsOfForm(): Settings {
  const where = document.querySelector<HTMLInputElement>('input[name="where"]:checked')?.value === "s3" ? "s3" : "opfs";
  const s3 = Object.fromEntries(Object.entries(ui.s3).map(([k, input]) => [k, input.value.trim()])) as unknown as Settings["s3"];
  return { where, s3 };
}

function targetOf(settings: Settings): Target {
  return settings.where === "opfs" ? { kind: "opfs" } : { kind: "s3", ...settings.s3 };
}

/** Opens the chosen place: says what is there and asks for the password it needs. */
async function connect(): Promise<void> {
  const settings = settingsOfForm();
  if (settings.where === "s3") {
    if (ui.remember.checked) remember(settings);
    else forget();
  }
  showRepository(undefined);
  await busy(settings.where === "s3" ? `Connecting to ${settings.s3.bucket}` : "Opening this browser's repository", async () => {
    const { found, location } = await worker.call({ op: "connect", target: targetOf(settings) }, "Connecting");
    showRepository(found, location);
    ui.status.textContent = "";
  });
}

function showRepository(state: typeof repo, location = repoLocation): void {
  repo = state;
  if (state !== "unlocked") found = state;
  repoLocation = location;
  document.body.dataset.repo = state ?? "";
  const where = settingsOfForm().where === "s3" ? `the bucket (${location})` : "this browser's storage";
  ui.passwordForm.hidden = state === undefined || state === "unlocked";
  ui.confirmLabel.hidden = state !== "none";
  ui.confirm.required = state === "none";
  ui.password.required = state !== "plain";
  ui.password.closest("label")!.hidden = state === "plain";
  ui.password.autocomplete = state === "none" ? "new-password" : "current-password";
  ui.lock.hidden = state !== "unlocked";
  ui.unlock.textContent = state === "none" ? "Create encrypted repository" : "Open";
  ui.repoInfo.textContent =
    state === "none"
      ? `There is no repository in ${where} yet. Choose a password to create one: new repositories are encrypted, and the password is never stored. Without it the backups cannot be restored.`
      : state === "encrypted"
        ? `An encrypted repository in ${where}. Enter its password to open it.`
        : state === "plain"
          ? `A repository in ${where} that is not encrypted (it was made without a password). It opens without one.`
          : state === "unlocked"
            ? `Open: the repository in ${where}. Click Lock to forget its key until the password is entered again.`
            : "";
  ui.passwordNote.textContent = state === "none" ? "Type the password twice. It is used in this browser only, to encrypt everything before it is stored." : "";
  if (state !== "unlocked") {
    drawSnapshots([]);
    ui.empty.textContent = state === "none" || state === undefined ? "No snapshots yet." : "Open the repository to see its snapshots.";
  }
  setButtons(document.body.dataset.state !== "busy");
}

/** Creates or opens the repository with the typed password, then forgets it. */
async function openWithPassword(): Promise<void> {
  const password = ui.password.value;
  const again = ui.confirm.value;
  ui.password.value = "";
  ui.confirm.value = "";
  const state = repo;
  await busy(state === "none" ? "Creating the encrypted repository" : "Opening the repository", async () => {
    if (state === "none" && password === "") throw formError("A password is needed", "Type a password to create the repository with.");
    if (state === "none" && password !== again) throw formError("The passwords do not match", "Type the same password in both fields; nothing was created.");
    const request: Request = state === "none" ? { op: "create", password } : state === "plain" ? { op: "unlock" } : { op: "unlock", password };
    const snapshots = await worker.call(request, state === "none" ? "Creating the repository" : "Opening the repository");
    showRepository("unlocked");
    if (state === "none") found = "encrypted";
    drawSnapshots(snapshots);
    ui.status.textContent = "";
  });
}

function formError(title: string, detail: string): Explained {
  return { title, detail, reason: "other", code: "FORM" };
}

async function backup(): Promise<void> {
  if (!source) return;
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

async function downloadDiff(s: Snapshot): Promise<void> {
  await busy("Preparing the diff archive", async () => {
    const { blob, name } = await worker.call({ op: "archive", id: s.id }, "Downloading the diff archive");
    download(blob, name);
    ui.status.textContent = `Downloaded ${name} (${fmt.bytes(blob.size)}).`;
  });
}

async function restoreZip(s: Snapshot): Promise<void> {
  await busy("Restoring into a ZIP", async (onProgress) => {
    const { blob, name, files } = await worker.call({ op: "restoreZip", id: s.id }, "Restore", onProgress);
    download(blob, name);
    ui.status.textContent = `Restored ${fmt.count(files, "file")} into ${name} (${fmt.bytes(blob.size)}).`;
  });
}

async function restoreFolder(s: Snapshot): Promise<void> {
  let handle: FileSystemDirectoryHandle;
  try {
    handle = await picker!({ id: "ibt-restore", mode: "readwrite" });
  } catch (e) {
    const explained = explainPicker(e);
    if (explained) showError(explained);
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

async function showStorage(): Promise<void> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  ui.storage.textContent =
    estimate?.usage !== undefined && estimate.quota !== undefined ? `This site uses ${fmt.bytes(estimate.usage)} of ${fmt.bytes(estimate.quota)} of browser storage.` : "";
}

function chooseSource(next: SourceSpec, info: string): void {
  source = next;
  ui.source.textContent = info;
  ui.backup.disabled = document.body.dataset.state === "busy";
  hideError();
}

ui.pick.hidden = !picker;
ui.pick.addEventListener("click", async () => {
  try {
    const handle = await picker!({ id: "ibt-source", mode: "read" });
    chooseSource({ kind: "handle", name: handle.name, handle }, `${handle.name} (chosen with the folder picker)`);
  } catch (e) {
    const explained = explainPicker(e);
    if (explained) showError(explained);
  }
});

ui.input.addEventListener("change", () => {
  const files = Array.from(ui.input.files ?? []);
  if (files.length === 0) return; // cancelled, or an empty folder, which the input cannot deliver
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
  const where = settingsOfForm().where === "s3" ? "in the bucket, with the repository's keys" : "in this browser";
  if (!confirm(`Delete every snapshot stored ${where}?`)) return;
  await busy("Deleting snapshots", async () => {
    await worker.call({ op: "erase" }, "Deleting snapshots");
    showRepository("none");
    ui.status.textContent = "All snapshots deleted.";
  });
});

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="where"]')) {
  radio.addEventListener("change", () => {
    ui.s3Form.hidden = settingsOfForm().where !== "s3";
    showRepository(undefined);
    if (settingsOfForm().where === "opfs") void connect();
  });
}
ui.s3Form.addEventListener("submit", (event) => {
  event.preventDefault();
  void connect();
});
ui.remember.addEventListener("change", () => {
  // Unticking forgets at once; ticking remembers at the next Connect, once the fields are filled.
  if (!ui.remember.checked) forget();
});
ui.passwordForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void openWithPassword();
});
ui.lock.addEventListener("click", async () => {
  await busy("Locking", async () => {
    await worker.call({ op: "lock" }, "Locking");
    showRepository(found);
    ui.status.textContent = "Locked: the key is forgotten until the password is entered again.";
  });
});

ui.cors.textContent = corsPolicy(window.location.origin);
const remembered = rememberedSettings();
if (remembered) {
  document.querySelector<HTMLInputElement>(`input[name="where"][value="${remembered.where}"]`)!.checked = true;
  for (const [k, input] of Object.entries(ui.s3)) input.value = remembered.s3[k as keyof Settings["s3"]];
  ui.remember.checked = true;
}
ui.s3Form.hidden = settingsOfForm().where !== "s3";
void connect(); // this browser's storage, or the bucket the user asked to remember
