/**
 * The shape every push-driven engine job shares, and the async-iterable and one-shot forms built
 * on it, so each job only implements `push`.
 */
import { chunksOf, concatBytes, type ByteSource } from "./bytes.js";

export interface PushJob {
  /** Receives output in order, as arrays the receiver owns; `final` is true on the last call. */
  ondata: (data: Uint8Array, final: boolean) => void;
  /** Takes a chunk of any size; `final` ends the input. */
  push(chunk: Uint8Array, final?: boolean): void;
  /** Releases the job's resources without finishing (idempotent). */
  dispose(): void;
}

/** Runs a job over a byte source, yielding its output as it comes. */
export async function* streamJob(job: PushJob, source: ByteSource): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  job.ondata = (d) => {
    if (d.length) pending.push(d);
  };
  try {
    for await (const chunk of chunksOf(source)) {
      job.push(chunk);
      yield* pending;
      pending = [];
    }
    job.push(new Uint8Array(0), true);
    yield* pending;
  } finally {
    job.dispose();
  }
}

/** Runs a job over bytes in memory and returns its whole output. */
export function runJob(job: PushJob, data: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  job.ondata = (d) => out.push(d);
  try {
    job.push(data, true);
  } finally {
    job.dispose();
  }
  return concatBytes(out);
}
