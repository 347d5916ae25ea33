/**
 * The probes of `init`'s conditional-write check on S3: a writer's sweep of leftovers removes
 * only probes older than the stale limit (and those of older versions, whose names carry no time), so an
 * `init` probing at the same moment keeps its probe and is not misled into judging the store
 * unsafe.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Repository } from "../../src/index.js";
import { MemoryFs } from "../../src/fs/memory.js";
import { repoStoreOn, serverForThisTest } from "../support/s3-repo-kit.js";

test("a backup's sweep on S3 removes stale and old-style init probes and keeps a fresh one", async () => {
  const server = await serverForThisTest();
  const store = repoStoreOn(server, "probes");
  const lockTiming = { refreshMs: 60_000, staleMs: 600_000 };
  const repo = await Repository.init(store, { lockTiming });
  const probe = new TextEncoder().encode("conditional-write probe\n");
  const fresh = `lock-probe-${Date.now()}-aaaaaaaaaaaaaaaa`;
  const stale = `lock-probe-${Date.now() - 2 * lockTiming.staleMs}-bbbbbbbbbbbbbbbb`;
  const oldStyle = "lock-probe-cccccccccccccccc";
  for (const name of [fresh, stale, oldStyle]) await store.save(name, probe);
  const source = new MemoryFs();
  await source.writeFile("a.txt", new TextEncoder().encode("a"));
  await repo.backup(source);
  const left: string[] = [];
  for await (const o of store.list("lock-probe-")) left.push(o.name);
  assert.deepEqual(left, [fresh]);
});
