/**
 * The Store conformance suite: one set of tests every Store runs, each store's test file only
 * handing it a factory of fresh, empty stores (as restic's backend tests do). It holds a store
 * to the contract in src/store/types.ts as MemoryStore, the reference, reads it: names refused
 * before storage is touched, whole-or-nothing saves (a source that throws leaves nothing),
 * ranges at and past the end, streamed saves of several MiB, conditional creates (EXISTS, and
 * exactly one winner of many at once), prefix listings that end mid-name, idempotent removal.
 * Imports only node:test, node:assert and the library, so a remote store's test file can run it
 * against its server.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { IbtError, collect, isIbtError, type Store } from "../../src/index.js";

export interface StoreFactory {
  name: string;
  /** A fresh, empty store. */
  make(): Promise<Store>;
  /** Stores that hold many MiB slowly (a remote one) may ask for a smaller streamed save. */
  bigSave?: number;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** `n` bytes of a pattern that shows where a wrong offset came from. */
function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

async function names(store: Store, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.name);
  return out.sort();
}

const code = (c: string) => (e: unknown) => isIbtError(e, c as never);

export function storeConformance(factory: StoreFactory): void {
  describe(`${factory.name} conformance`, () => {
    test("names outside the contract are refused with UNSAFE_PATH by every call, before storage is touched", async () => {
      const store = await factory.make();
      const bad = ["", "/a", "a/", "a//b", "./a", "a/./b", "../a", "a/..", "a b", "a\\b", "é", "a:b", "a~b", "a\0b", "C:x"];
      for (const name of bad) {
        let read = false;
        const source = (async function* () {
          read = true;
          yield enc("x");
        })();
        await assert.rejects(store.save(name, source), code("UNSAFE_PATH"), `save ${JSON.stringify(name)}`);
        assert.equal(read, false, `save ${JSON.stringify(name)} read its data`);
        await assert.rejects(store.save(name, enc("x"), { ifAbsent: true }), code("UNSAFE_PATH"));
        await assert.rejects(store.load(name), code("UNSAFE_PATH"), `load ${JSON.stringify(name)}`);
        await assert.rejects(collect(store.loadStream(name)), code("UNSAFE_PATH"));
        await assert.rejects(store.stat(name), code("UNSAFE_PATH"));
        await assert.rejects(store.remove(name), code("UNSAFE_PATH"));
      }
      assert.deepEqual(await names(store, ""), []);
      // Names the contract allows.
      const good = ["a", "A-Z_0.9", ".hidden", "b/c/d", "..a", "a..", "x/.y"];
      for (const name of good) await store.save(name, enc(name));
      assert.deepEqual(await names(store, ""), [...good].sort());
    });

    test("save and load: whole objects, replaced by a later save, copies in both directions", async () => {
      const store = await factory.make();
      const bytes = enc("hello, store");
      await store.save("a/b.txt", bytes);
      bytes[0] = 0; // the store keeps no reference to what it was given
      assert.equal(new TextDecoder().decode(await store.load("a/b.txt")), "hello, store");
      const got = await store.load("a/b.txt");
      got[0] = 0;
      assert.equal(new TextDecoder().decode(await store.load("a/b.txt")), "hello, store");
      await store.save("a/b.txt", enc("shorter"));
      assert.equal(new TextDecoder().decode(await store.load("a/b.txt")), "shorter");
      await store.save("empty", new Uint8Array(0));
      assert.deepEqual(await store.load("empty"), new Uint8Array(0));
      assert.deepEqual(await store.stat("empty"), { name: "empty", size: 0 });
      assert.deepEqual(await store.stat("a/b.txt"), { name: "a/b.txt", size: 7 });
      await assert.rejects(store.load("missing"), code("NOT_FOUND"));
      await assert.rejects(store.load("a/missing", { offset: 0, length: 3 }), code("NOT_FOUND"));
      await assert.rejects(store.stat("a"), code("NOT_FOUND"), "a prefix is not an object");
      await assert.rejects(store.load("a"), code("NOT_FOUND"));
      await assert.rejects(store.load("a/b.txt/c"), code("NOT_FOUND"));
    });

    test("ranges: inside, across the end, at and after the end, length 0, bad ranges", async () => {
      const store = await factory.make();
      const bytes = pattern(1000);
      await store.save("r", bytes);
      assert.deepEqual(await store.load("r", { offset: 10, length: 20 }), bytes.slice(10, 30));
      assert.deepEqual(await store.load("r", { offset: 990, length: 20 }), bytes.slice(990));
      assert.deepEqual(await store.load("r", { offset: 500 }), bytes.slice(500));
      assert.deepEqual(await store.load("r", { length: 5 }), bytes.slice(0, 5));
      assert.deepEqual(await store.load("r", { offset: 1000 }), new Uint8Array(0));
      assert.deepEqual(await store.load("r", { offset: 1000, length: 5 }), new Uint8Array(0));
      assert.deepEqual(await store.load("r", { offset: 5000, length: 5 }), new Uint8Array(0));
      assert.deepEqual(await store.load("r", { offset: 5000 }), new Uint8Array(0));
      assert.deepEqual(await store.load("r", { offset: 3, length: 0 }), new Uint8Array(0));
      assert.deepEqual(await store.load("r", { offset: 0, length: 1000 }), bytes);
      for (const bad of [{ offset: -1 }, { length: -1 }, { offset: 1.5 }, { offset: 0, length: Number.NaN }]) {
        await assert.rejects(store.load("r", bad), code("BAD_ARGUMENT"), JSON.stringify(bad));
      }
      await store.save("empty", new Uint8Array(0));
      assert.deepEqual(await store.load("empty", { offset: 0, length: 10 }), new Uint8Array(0));
    });

    test("a streamed save of several MiB in odd chunks loads back byte for byte, whole, ranged and streamed", async () => {
      const store = await factory.make();
      const size = factory.bigSave ?? 9 * (1 << 20) + 12345;
      const bytes = pattern(size, 7);
      await store.save("big/object.zip", chunked(bytes, 65_537));
      assert.equal((await store.stat("big/object.zip")).size, size);
      assert.deepEqual(await store.load("big/object.zip"), bytes);
      const mid = Math.floor(size / 2);
      assert.deepEqual(await store.load("big/object.zip", { offset: mid, length: 70_000 }), bytes.slice(mid, mid + 70_000));
      const chunks: Uint8Array[] = [];
      for await (const c of store.loadStream("big/object.zip")) chunks.push(c);
      assert.deepEqual(concatBytes(chunks), bytes);
      // Plain arrays and iterables of them are sources too.
      await store.save("sync-iterable", [enc("ab"), enc("cd")]);
      assert.equal(new TextDecoder().decode(await store.load("sync-iterable")), "abcd");
    });

    test("a source that throws mid-stream leaves nothing (or the old object), and its error is rethrown unchanged", async () => {
      const store = await factory.make();
      class SourceError extends Error {}
      const failing = async function* () {
        yield pattern(300_000);
        yield pattern(300_000, 2);
        throw new SourceError("the source broke");
      };
      await assert.rejects(store.save("dir/new", failing()), (e) => e instanceof SourceError);
      await assert.rejects(store.stat("dir/new"), code("NOT_FOUND"));
      assert.deepEqual(await names(store, ""), []);
      await store.save("dir/old", enc("old"));
      await assert.rejects(store.save("dir/old", failing()), (e) => e instanceof SourceError);
      assert.equal(new TextDecoder().decode(await store.load("dir/old")), "old");
      await assert.rejects(store.save("dir/cond", failing(), { ifAbsent: true }), (e) => e instanceof SourceError);
      await assert.rejects(store.stat("dir/cond"), code("NOT_FOUND"));
      await store.save("dir/cond", enc("now"), { ifAbsent: true });
      // An IbtError from the source is also rethrown as it is.
      const ibt = new IbtError("IO", "source's own failure");
      await assert.rejects(
        store.save("dir/x", (async function* () {
          yield enc("a");
          throw ibt;
        })()),
        (e) => e === ibt,
      );
      assert.deepEqual(await names(store, ""), ["dir/cond", "dir/old"]);
    });

    test("ifAbsent: creates once, then EXISTS leaving the object as it was; a plain save still replaces it", async () => {
      const store = await factory.make();
      await store.save("locks/one", enc("first"), { ifAbsent: true });
      await assert.rejects(store.save("locks/one", enc("second"), { ifAbsent: true }), code("EXISTS"));
      assert.equal(new TextDecoder().decode(await store.load("locks/one")), "first");
      assert.deepEqual(await store.stat("locks/one"), { name: "locks/one", size: 5 });
      assert.deepEqual(await names(store, "locks/"), ["locks/one"]);
      assert.deepEqual(await store.load("locks/one", { offset: 1, length: 3 }), enc("irs"));
      assert.equal(new TextDecoder().decode(await collect(store.loadStream("locks/one"))), "first");
      await store.save("locks/one", enc("rewritten"));
      assert.equal(new TextDecoder().decode(await store.load("locks/one")), "rewritten");
      await assert.rejects(store.save("locks/one", enc("again"), { ifAbsent: true }), code("EXISTS"));
      // An object saved plainly counts as present too.
      await store.save("plain", enc("p"));
      await assert.rejects(store.save("plain", enc("q"), { ifAbsent: true }), code("EXISTS"));
      await store.remove("locks/one");
      await assert.rejects(store.stat("locks/one"), code("NOT_FOUND"));
      await store.save("locks/one", enc("after removal"), { ifAbsent: true });
      assert.equal(new TextDecoder().decode(await store.load("locks/one")), "after removal");
    });

    test("ifAbsent: of many concurrent conditional saves of one name exactly one wins, and its bytes are the object", async () => {
      const store = await factory.make();
      for (let round = 0; round < 5; round++) {
        const name = `race/r${round}`;
        const n = 12;
        const results = await Promise.allSettled(
          Array.from({ length: n }, (_, i) =>
            store.save(name, (async function* () {
              yield enc(`writer ${i} `);
              await new Promise((r) => setTimeout(r, (i * 7) % 5));
              yield enc("done");
            })(), { ifAbsent: true }),
          ),
        );
        const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
        assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
        for (const r of results) if (r.status === "rejected") assert.ok(isIbtError(r.reason, "EXISTS"), String(r.reason));
        assert.equal(new TextDecoder().decode(await store.load(name)), `writer ${won[0]} done`);
      }
      assert.equal((await names(store, "race/")).length, 5);
    });

    test("list: by prefix, including prefixes that end mid-name, each object once with its size", async () => {
      const store = await factory.make();
      const objects = ["snapshots/aa.json", "snapshots/ab.json", "snapshots/b.json", "data/aa.zip", "data/deep/x/y", "lock", "lock-breaker", "top"];
      for (const [i, name] of objects.entries()) await store.save(name, pattern(i + 1), i % 2 ? { ifAbsent: true } : {});
      assert.deepEqual(await names(store, ""), [...objects].sort());
      assert.deepEqual(await names(store, "snapshots/"), ["snapshots/aa.json", "snapshots/ab.json", "snapshots/b.json"]);
      assert.deepEqual(await names(store, "snapshots/a"), ["snapshots/aa.json", "snapshots/ab.json"]);
      assert.deepEqual(await names(store, "snapshots/ab.json"), ["snapshots/ab.json"]);
      assert.deepEqual(await names(store, "snap"), ["snapshots/aa.json", "snapshots/ab.json", "snapshots/b.json"]);
      assert.deepEqual(await names(store, "lock"), ["lock", "lock-breaker"]);
      assert.deepEqual(await names(store, "lock/"), []);
      assert.deepEqual(await names(store, "lock-"), ["lock-breaker"]);
      assert.deepEqual(await names(store, "data/d"), ["data/deep/x/y"]);
      assert.deepEqual(await names(store, "data/deep/x/"), ["data/deep/x/y"]);
      assert.deepEqual(await names(store, "nothing/"), []);
      assert.deepEqual(await names(store, "../"), []);
      assert.deepEqual(await names(store, "a b"), []);
      const sizes = new Map<string, number>();
      for await (const o of store.list("")) {
        assert.ok(!sizes.has(o.name), `${o.name} listed twice`);
        sizes.set(o.name, o.size);
      }
      for (const [i, name] of objects.entries()) assert.equal(sizes.get(name), i + 1, name);
    });

    test("remove: then gone from stat, load and list; removing a missing object succeeds", async () => {
      const store = await factory.make();
      await store.save("d/one", enc("1"));
      await store.save("d/two", enc("2"), { ifAbsent: true });
      await store.save("d/sub/three", enc("3"));
      await store.remove("d/one");
      await store.remove("d/two");
      await assert.rejects(store.stat("d/one"), code("NOT_FOUND"));
      await assert.rejects(store.load("d/two"), code("NOT_FOUND"));
      await assert.rejects(collect(store.loadStream("d/two")), code("NOT_FOUND"));
      assert.deepEqual(await names(store, "d/"), ["d/sub/three"]);
      await store.remove("d/one");
      await store.remove("never/was");
      await store.remove("d/sub");
      assert.deepEqual(await names(store, ""), ["d/sub/three"], "removing a prefix removes nothing");
      await store.remove("d/sub/three");
      assert.deepEqual(await names(store, ""), []);
      await store.save("d/one", enc("back"));
      assert.equal(new TextDecoder().decode(await store.load("d/one")), "back");
    });

    test("loadStream: chunks read as consumed; NOT_FOUND for a missing object; a stream left early is fine", async () => {
      const store = await factory.make();
      const bytes = pattern(3 * (1 << 20) + 5, 3);
      await store.save("s", bytes);
      assert.deepEqual(await collect(store.loadStream("s")), bytes);
      for await (const c of store.loadStream("s")) {
        assert.ok(c.length > 0);
        break;
      }
      await store.save("e", new Uint8Array(0));
      assert.deepEqual(await collect(store.loadStream("e")), new Uint8Array(0));
      await assert.rejects(collect(store.loadStream("nope")), code("NOT_FOUND"));
    });

    test("a fired signal stops a save with ABORTED and leaves nothing", async () => {
      const store = await factory.make();
      const ac = new AbortController();
      const source = async function* () {
        yield pattern(1000);
        ac.abort();
        yield pattern(1000);
        yield pattern(1000);
      };
      await assert.rejects(store.save("aborted", source(), { signal: ac.signal }), code("ABORTED"));
      await assert.rejects(store.stat("aborted"), code("NOT_FOUND"));
      await assert.rejects(store.load("x", { signal: ac.signal }), (e) => isIbtError(e, "ABORTED") || isIbtError(e, "NOT_FOUND"));
    });

    test("location is a non-empty string", async () => {
      const store = await factory.make();
      assert.equal(typeof store.location, "string");
      assert.ok(store.location.length > 0);
    });
  });
}
