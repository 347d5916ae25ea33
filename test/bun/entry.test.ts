// Under Bun: the package's entries, imported by name, are the modules the suites test (Bun
// resolves the main entry with its own export conditions, never the workerd one), and the engine
// agrees with rdiff and with Node on the fixtures Node made.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as local from "../../src/index.js";
import { engineCases } from "../shared/engine-cases.js";
import { cryptoCases } from "../shared/crypto-cases.js";
import { zstdCases } from "../shared/zstd-cases.js";
import { bunVersion, readWork } from "./work.js";

test("Bun: the package imports by name, and is the module the suites test", async () => {
  assert.match(bunVersion(), /^\d+\.\d+\.\d+/);
  const pkg = (await import("incremental-backups-tools")) as typeof local;
  const node = (await import("incremental-backups-tools/node")) as typeof import("../../src/node/index.js");
  assert.equal(pkg.DirIndex, local.DirIndex);
  assert.equal(typeof node.NodeFs, "function");
  const sig = await pkg.signatureOf(new TextEncoder().encode("hello from Bun"));
  assert.equal(new DataView(sig.buffer, sig.byteOffset).getUint32(0), pkg.MAGIC_RABINKARP_BLAKE2);
});

engineCases((file) => readWork(`engine/${file}`));
cryptoCases((file) => readWork(`engine/${file}`));
zstdCases("Bun");
