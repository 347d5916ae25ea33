/**
 * The content of one file as of one snapshot, rebuilt from its chain without rebuilding the tree.
 *
 * Walking back from the snapshot, each link says where the path's content came from: bytes
 * stored whole (the walk ends), a librsync delta against the same path one link earlier, a move
 * or copy from another path one link earlier, or nothing (unchanged: look one link earlier).
 * The result is a recipe: stored bytes, then the deltas to apply in order. Restoring one file
 * reads that file's member (or the one group holding it) in one archive and its deltas in the
 * later ones, nothing else.
 *
 * Each delta reads its basis at random offsets, so each intermediate version is held: in memory
 * up to MEMORY_BASIS, else in a scratch file inside the restore's staging directory. Every
 * intermediate version is checked against the hash its manifest records before it is used, so
 * damage is reported at the link that has it.
 */
import { IbtError } from "../errors.js";
import type { FsAdapter } from "../fs/types.js";
import { collect } from "../bytes.js";
import { patch, patchInto } from "../rsync/patch.js";
import { verifiedContent } from "../archive/content-hash.js";
import { matchesHash, type ManifestChange } from "../archive/manifest.js";
import { archivePath } from "./layout.js";
import { inFile, type ArchiveLink } from "./stored.js";

/** Intermediate versions up to this size are held in memory rather than in a scratch file. */
const MEMORY_BASIS = 16 << 20;

export interface Step {
  link: ArchiveLink;
  change: ManifestChange;
}

/** The steps that rebuild `path` as of `links[at]`, oldest first; the last yields `hash`. */
export function recipe(links: readonly ArchiveLink[], at: number, path: string, hash: string | undefined): Step[] {
  const newestFirst: Step[] = [];
  let p = path;
  for (let j = at; j >= 0; j--) {
    const change = links[j]!.changes.get(p);
    if (!change) continue;
    if (change.member !== undefined) {
      newestFirst.push({ link: links[j]!, change });
      if (change.encoding === "bytes") {
        if (hash === undefined || !matchesHash(hash, newestFirst[0]!.change.new!.hash)) break;
        // A restore holds one recipe per file: a list of one step is made at its size (a list
        // grown by push keeps room for 16 more).
        return newestFirst.length === 1 ? [newestFirst[0]!] : newestFirst.reverse();
      }
    } else if (change.kind === "move" || change.kind === "copy") {
      p = change.from!;
    }
  }
  const where = archivePath(links[at]!.rec.id);
  throw new IbtError("CORRUPT", `${where}: the chain of snapshot ${links[at]!.rec.id} holds no data for ${path}`, { path: where });
}

interface Basis {
  size: number;
  read: (offset: number, length: number) => Promise<Uint8Array> | Uint8Array;
  dispose: () => Promise<void>;
}

/**
 * The verified content of the recipe's result, as a stream. `scratch` names a free path in the
 * target for intermediate versions too big for memory.
 */
export async function* rebuild(target: FsAdapter, steps: readonly Step[], scratch: string): AsyncGenerator<Uint8Array> {
  let basis: Basis | undefined;
  try {
    for (const [i, step] of steps.entries()) {
      const content = verified(step, produce(step, basis));
      if (i === steps.length - 1) {
        yield* content;
        return;
      }
      const next = await hold(target, content, step.change.new!.size, `${scratch}-${i}`);
      await basis?.dispose();
      basis = next;
    }
  } finally {
    await basis?.dispose();
  }
}

function produce(step: Step, basis: Basis | undefined): AsyncIterable<Uint8Array> {
  const member = dataOf(step);
  if (step.change.encoding === "bytes") return member;
  if (!basis) throw new IbtError("INTERNAL", "a delta without a basis");
  const size = step.change.new!.size;
  if (size > MEMORY_BASIS) return patch(basis.read, member, { basisSize: basis.size });
  // Small enough to hold: rebuilt into one array, which the caller then holds or writes as it is.
  return (async function* () {
    yield await patchInto(basis.read, member, size, { basisSize: basis.size });
  })();
}

/** The step's data as its archive holds it (a member, or a span of a group); errors surface when read. */
async function* dataOf(step: Step): AsyncGenerator<Uint8Array> {
  yield* step.link.data.open(step.change);
}

/** The step's content checked against its manifest; errors name the archive. */
async function* verified(step: Step, content: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* verifiedContent(step.change, content);
  } catch (e) {
    inFile(archivePath(step.link.rec.id), e);
  }
}

async function hold(target: FsAdapter, content: AsyncIterable<Uint8Array>, size: number, scratch: string): Promise<Basis> {
  if (size <= MEMORY_BASIS) {
    const bytes = await collect(content);
    return { size, read: (o, l) => bytes.subarray(o, o + l), dispose: async () => {} };
  }
  await target.writeFile(scratch, content);
  return { size, read: (o, l) => target.read(scratch, o, l), dispose: () => target.remove(scratch) };
}
