// The S3 store must run in browsers and workerd: its files import nothing from node:, no Buffer,
// no process, no DOMParser and no AWS SDK. Read from the sources, so the check needs no Deno.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

// Tests run from dist/test/store; the sources are three levels up.
const root = fileURLToPath(new URL("../../../", import.meta.url));

test("the S3 store's files import nothing Node-only", async () => {
  const dir = join(root, "src", "store", "s3");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 6, `found ${files.join(", ")}`);
  for (const f of [...files.map((x) => join(dir, x)), join(root, "src", "store", "index.ts")]) {
    // Comments may name what the code avoids.
    const text = (await readFile(f, "utf8")).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    const imports = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!);
    for (const spec of imports) assert.ok(spec.startsWith("./") || spec.startsWith("../"), `${f} imports ${spec}`);
    assert.doesNotMatch(text, /\bimport\s*\(|\brequire\s*\(/, `${f}: dynamic import or require`);
    assert.doesNotMatch(text, /\b(Buffer|process|DOMParser|__dirname)\b/, `${f}: a Node-only or DOM-only global`);
  }
});
