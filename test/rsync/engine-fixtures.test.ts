// The shared engine cases (test/shared/engine-cases.ts) in Node, on fixtures made here by rdiff:
// the same checks Deno and Chromium run, so Node is held to them too.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { engineCases } from "../shared/engine-cases.js";
import { makeEngineFixtures } from "../shared/engine-fixtures.js";
import { tempDir } from "../support/helpers.js";

const dir = join(tempDir(), "engine");
const made = makeEngineFixtures(dir);
engineCases(async (file) => {
  await made;
  return new Uint8Array(await readFile(join(dir, file)));
});
