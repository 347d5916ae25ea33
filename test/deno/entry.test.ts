// Under Deno: the package's public ESM entries, imported by name, are the modules the suites
// test; the engine agrees with rdiff and with Node on the fixtures Node made; and the suite runs
// with the permissions the runner promises, no more.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as local from "../../src/index.js";
import { engineCases } from "../shared/engine-cases.js";
import { cryptoCases } from "../shared/crypto-cases.js";
import { zstdCases } from "../shared/zstd-cases.js";
import { WORK, denoPermissions, readWork } from "./work.js";

test("Deno: the package imports by name, and is the module the suites test", async () => {
  const pkg = (await import("incremental-backups-tools")) as typeof local;
  const node = (await import("incremental-backups-tools/node")) as typeof import("../../src/node/index.js");
  assert.equal(pkg.DirIndex, local.DirIndex);
  assert.equal(typeof node.NodeFs, "function");
  assert.ok(Object.keys(pkg).length > 30);
  const sig = await pkg.signatureOf(new TextEncoder().encode("hello from Deno"));
  assert.equal(new DataView(sig.buffer, sig.byteOffset).getUint32(0), pkg.MAGIC_RABINKARP_BLAKE2);
});

test("Deno: permissions are read for the package and the work folder, write for the work folder, nothing else", () => {
  const p = denoPermissions();
  assert.equal(p.querySync({ name: "write", path: WORK }).state, "granted");
  assert.equal(p.querySync({ name: "read", path: WORK }).state, "granted");
  assert.notEqual(p.querySync({ name: "write", path: new URL("../../..", import.meta.url).pathname }).state, "granted", "package folder not writable");
  assert.notEqual(p.querySync({ name: "read", path: "/etc" }).state, "granted");
  assert.notEqual(p.querySync({ name: "net" }).state, "granted");
  assert.notEqual(p.querySync({ name: "run" }).state, "granted");
  assert.notEqual(p.querySync({ name: "env", variable: "HOME" }).state, "granted");
});

engineCases((file) => readWork(`engine/${file}`));
cryptoCases((file) => readWork(`engine/${file}`));
zstdCases("Deno");
