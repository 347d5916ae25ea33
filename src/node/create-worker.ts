/**
 * NodeFs's `createFile` on a worker thread (its `createInWorker` option). Creating a small file
 * is five system calls (open, write, fchmod, futimes, close) whose cost is mostly the kernel's;
 * made on another thread they overlap the main thread's work on the next files (inflating,
 * hashing), so a restore that keeps several creates in flight uses both cores.
 *
 * Jobs are sent in batches: those queued in one turn of the event loop go in one message, and
 * the worker answers each batch with one message. The worker runs the same calls as
 * `syncCalls.createFile` (sync-files.ts): an exclusive create that never follows a final
 * symlink, and the file removed again after an error. Paths are absolute and their parents
 * already checked by NodeFs. The thread holds the process open only while jobs are pending.
 *
 * Starting a worker takes tens of milliseconds, longer than a small restore spends creating all
 * its files. So the first ask (`ready()`) only starts it, and the caller makes its own creates
 * until the worker is up: a small restore never waits for it, a large one hands it the rest.
 */
import { Worker } from "node:worker_threads";
import { CREATE_NEW } from "./fs-calls.js";

/** Jobs per message at most: a batch is also cut when the event loop turns. */
const BATCH = 64;

// CommonJS source, so that it runs the same from the library's modules and the CLI's bundle.
const SOURCE = `
const { parentPort } = require("node:worker_threads");
const fs = require("node:fs");
parentPort.on("message", ([jobs, packed]) => {
  const out = [];
  for (const [id, abs, length, offset, mode, mtime] of jobs) {
    const data = new Uint8Array(packed, offset, length);
    let fd = -1;
    let made = false;
    try {
      fd = fs.openSync(abs, ${CREATE_NEW}, 0o600);
      made = true;
      for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at, data.length - at, at);
      if (mode !== null) fs.fchmodSync(fd, mode);
      fs.futimesSync(fd, Date.now() / 1000, mtime);
      const open = fd;
      fd = -1;
      fs.closeSync(open);
      out.push([id]);
    } catch (e) {
      try { if (fd >= 0) fs.closeSync(fd); } catch {}
      try { if (made) fs.unlinkSync(abs); } catch {}
      out.push([id, e && e.code, e && e.message]);
    }
  }
  parentPort.postMessage(out);
});
`;

type Job = [id: number, abs: string, data: Uint8Array, mode: number | null, mtimeSeconds: number];
type Answer = [id: number, code?: string, message?: string];

export class CreateWorker {
  #worker: Worker | undefined;
  #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #batch: Job[] = [];
  #nextId = 0;
  #scheduled = false;
  #online = false;

  /** Whether the worker takes jobs now. The first call starts it; until it runs, the answer is false. */
  ready(): boolean {
    this.#worker ??= this.#start();
    return this.#online;
  }

  /**
   * Stops the worker, if one was started, so that the process need not wait for one still
   * starting. Creates still pending fail. A later create starts another.
   */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#online = false;
    if (worker) await worker.terminate();
  }

  /** Creates `abs` (see FsCalls.createFile); rejects with an Error carrying the errno code. */
  createFile(abs: string, data: Uint8Array, mode: number | undefined, mtimeSeconds: number): Promise<void> {
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    this.#batch.push([id, abs, data, mode ?? null, mtimeSeconds]);
    if (this.#batch.length >= BATCH) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return done;
  }

  #flush(): void {
    this.#scheduled = false;
    if (!this.#batch.length) return;
    const worker = (this.#worker ??= this.#start());
    worker.ref();
    // A message copies every buffer its views look into, whole, and a restore's small files are
    // views of a group of a few MiB: the batch's bytes go packed into one buffer, transferred.
    const packed = new Uint8Array(this.#batch.reduce((n, job) => n + job[2].length, 0));
    let at = 0;
    const jobs = this.#batch.map(([id, abs, data, mode, mtime]) => {
      packed.set(data, at);
      at += data.length;
      return [id, abs, data.length, at - data.length, mode, mtime];
    });
    worker.postMessage([jobs, packed.buffer], [packed.buffer]);
    this.#batch = [];
  }

  #start(): Worker {
    const worker = new Worker(SOURCE, { eval: true });
    this.#online = false;
    // Started before it has jobs, it holds the process open only while some are pending (#flush).
    // An unref() made before the worker is up does not hold in Node 20, hence the second one.
    worker.unref();
    worker.on("online", () => {
      if (this.#worker === worker) this.#online = true;
      if (!this.#waiting.size) worker.unref();
    });
    worker.on("message", (answers: Answer[]) => {
      for (const [id, code, message] of answers) {
        const waiter = this.#waiting.get(id);
        this.#waiting.delete(id);
        if (code === undefined && message === undefined) waiter?.resolve();
        else waiter?.reject(Object.assign(new Error(message ?? "createFile failed"), { code }));
      }
      if (!this.#waiting.size) worker.unref();
    });
    // A worker that dies takes its pending jobs with it: each fails, and the next job starts another.
    const fail = (e: unknown) => {
      if (this.#worker === worker) {
        this.#worker = undefined;
        this.#online = false;
      }
      const error = e instanceof Error ? e : new Error(`the file-creating worker stopped (${String(e)})`);
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the file-creating worker exited with code ${code}`)));
    return worker;
  }
}
