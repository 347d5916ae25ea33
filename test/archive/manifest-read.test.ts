/**
 * The manifest read in pieces (ManifestJson, readManifest): for every way of cutting the text
 * (pieces of 1, 2, 3, 7, 15, 100 and 10,000 bytes and random ones), the document is what
 * `JSON.parse` makes of the whole text, whatever the key order, whitespace or escapes; a text
 * `JSON.parse` refuses is refused as CORRUPT (hand-made cases and random damage to structural
 * characters, compared with JSON.parse itself); two `changes` arrays are refused; and reading a
 * 9 MB manifest from an archive never decodes or parses a string over 128 KiB (counted).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DiffData, MemoryFs, ZipReader, fflateDeflate, isIbtError, parseManifest, readManifest } from "../../src/index.js";
import { ManifestJson } from "../../src/archive/manifest-json.js";
import { MANIFEST_NAME } from "../../src/archive/manifest.js";
import { concatBytes } from "../../src/bytes.js";
import { rng, split } from "../support/helpers.js";
import { deletions } from "../support/manifest-cases.js";

const SIZES = [1, 2, 3, 7, 15, 100, 10_000];
const HASH = "ab".repeat(32);

function change(path: string, i: number): Record<string, unknown> {
  return { kind: "create", path, new: { type: "file", size: i, mtimeMs: 1_700_000_000_000 + i, mode: 0o100644, hash: HASH }, member: `new/${path}`, encoding: "bytes" };
}

/** Paths a manifest may hold, with JSON's structural characters, quotes and multi-byte UTF-8. */
const SAFE = ['a "quoted" [name]', 'x":[{', "日本語 😀", "comma,colon:", "changes", "plain}]"];
/** Strings JSON escapes, which are no valid paths: for the JSON reading only. */
const ESCAPED = [...SAFE, "back\\slash{}", "tab\there", 'end\\"'];

/** A manifest's fields with `n` changes named after `names`. */
function fields(n: number, names = SAFE): Record<string, unknown> {
  return {
    format: "incremental-backups-tools/diff",
    version: 1,
    base: "0".repeat(64),
    created: "2026-01-01T00:00:00.000Z",
    changes: Array.from({ length: n }, (_, i) => change(`${names[i % names.length]}-${i}`, i)),
    parents: [],
    target: "1".repeat(64),
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

/** ManifestJson's document for the text fed in `pieces`. */
function readIn(pieces: Uint8Array[]): unknown {
  const json = new ManifestJson();
  for (const p of pieces) json.push(p);
  return json.end();
}

function eachCut(data: Uint8Array, check: (pieces: Uint8Array[], how: string) => void): void {
  for (const size of SIZES) check(split(data, size), `pieces of ${size}`);
  const next = rng(7);
  for (let k = 0; k < 5; k++) check(split(data, () => next() / 2000), `random pieces ${k}`);
  check([new Uint8Array(0), data, new Uint8Array(0)], "whole, with empty pieces around");
}

test("a manifest's text read in pieces of any size is the document JSON.parse makes of it: key orders, whitespace, escaped keys", () => {
  const f = fields(24, ESCAPED);
  const { changes, ...rest } = f;
  const texts: [string, string][] = [
    ["as written", JSON.stringify(f)],
    ["indented", JSON.stringify(f, null, 2)],
    ["changes last", JSON.stringify({ ...rest, changes })],
    ["changes first", JSON.stringify({ changes, ...rest })],
    ["no changes", JSON.stringify({ ...rest, changes: [] })],
    ["blank array", JSON.stringify({ ...rest }).replace(/^\{/, '{"changes":[ \n\t ],')],
    ["escaped key", JSON.stringify(f).replace('"changes":', '"chang\\u0065s":')],
    ["string values that name the key", JSON.stringify({ note: "changes", ...f, other: { changes: [1, 2] } })],
    ["a key ending in an escaped backslash", JSON.stringify({ "k\\": "changes", ...f })],
  ];
  for (const [name, text] of texts) {
    const want = JSON.parse(text);
    eachCut(bytes(text), (pieces, how) => assert.deepEqual(readIn(pieces), want, `${name}, ${how}`));
  }
  // A valid manifest in another key order passes the manifest's own checks.
  const valid = fields(24);
  const { changes: c, ...r } = valid;
  assert.deepEqual(parseManifest(bytes(JSON.stringify({ changes: c, ...r }))), valid);
});

test("readManifest over a stream gives parseManifest's manifest", async () => {
  const text = bytes(JSON.stringify(fields(300)));
  async function* stream(): AsyncGenerator<Uint8Array> {
    yield* split(text, 333);
  }
  assert.deepEqual(await readManifest(stream()), parseManifest(text));
});

test("text JSON.parse refuses is refused as CORRUPT however it is cut; so are two changes arrays", () => {
  const ok = JSON.stringify(fields(3));
  const one = JSON.stringify(change("p", 1));
  const bad: [string, string | Uint8Array][] = [
    ["trailing comma", ok.replace(/\],"parents"/, ',],"parents"')],
    ["only a comma", `{"changes":[,]}`],
    ["two commas", `{"changes":[${one},,${one}]}`],
    ["no comma", `{"changes":[${one} ${one}]}`],
    ["cut inside a change", ok.slice(0, ok.indexOf('"member"'))],
    ["cut inside a string", ok.slice(0, ok.length - 20)],
    ["unclosed array", `{"changes":[${one}`],
    ["closed twice", `${ok}}`],
    ["text after the document", `${ok} x`],
    ["bracket for a brace", `{"changes":[${one}]]`],
    ["empty", ""],
    ["invalid UTF-8", concatBytes([bytes(ok.slice(0, 40)), new Uint8Array([0xff]), bytes(ok.slice(40))])],
    ["UTF-8 cut at the end", concatBytes([bytes(ok), new Uint8Array([0xe6, 0x97])])],
    ["two changes arrays", `{"changes":[],"changes":[${one}]}`],
    ["two changes arrays, one escaped", `{"changes":[${one}],"chang\\u0065s":[]}`],
  ];
  for (const [name, text] of bad) {
    const data = typeof text === "string" ? bytes(text) : text;
    eachCut(data, (pieces, how) => {
      assert.throws(() => readIn(pieces), (e: unknown) => isIbtError(e) && e.code === "CORRUPT", `${name}, ${how}`);
    });
  }
});

test("random damage to structural characters: refused exactly when JSON.parse refuses, the same document otherwise", () => {
  const text = JSON.stringify({ ...fields(6, ESCAPED), parents: [{ path: "d", mtimeMs: 2, mode: 0o40755 }] }, null, 1);
  const STRUCTURAL = '{}[],:" \\';
  const next = rng(20261207);
  let refused = 0;
  for (let trial = 0; trial < 1500; trial++) {
    let t = text;
    for (let k = 1 + Math.floor(next() * 2); k > 0; k--) {
      const at = Math.floor(next() * t.length);
      const ch = STRUCTURAL[Math.floor(next() * STRUCTURAL.length)]!;
      const op = next();
      t = op < 0.4 ? t.slice(0, at) + t.slice(at + 1) : op < 0.7 ? t.slice(0, at) + ch + t.slice(at) : t.slice(0, at) + ch + t.slice(at + 1);
    }
    // As bytes: a damage between a surrogate pair's halves leaves two U+FFFD.
    const data = bytes(t);
    let want: unknown;
    let valid = true;
    try {
      want = JSON.parse(new TextDecoder().decode(data));
    } catch {
      valid = false;
    }
    const pieces = split(data, 1 + Math.floor(next() * 50));
    if (valid) {
      let got: unknown;
      try {
        got = readIn(pieces);
      } catch (e) {
        // The one text JSON takes and the reader refuses: a second changes array at the top.
        assert.ok(isIbtError(e) && /changes given twice/.test(e.message), `trial ${trial}: ${String(e)}\n${t}`);
        continue;
      }
      assert.deepEqual(got, want, `trial ${trial}\n${t}`);
    } else {
      refused++;
      assert.throws(() => readIn(pieces), (e: unknown) => isIbtError(e) && e.code === "CORRUPT", `trial ${trial}\n${t}`);
    }
  }
  assert.ok(refused > 500, `${refused} damaged texts were invalid JSON`);
});

test("reading a 9 MB manifest from its archive decodes and parses no string over 128 KiB, counted", async () => {
  const chunks: Uint8Array[] = [];
  await new DiffData(deletions(50_000), { source: new MemoryFs(), deflate: fflateDeflate }).write(async (c) => void chunks.push(c.slice()));
  const archive = concatBytes(chunks);
  const reader = await ZipReader.from({ size: archive.length, read: async (o, n) => archive.slice(o, o + n) });
  assert.ok(reader.get(MANIFEST_NAME)!.size > 8_000_000, "the manifest is many MB");
  const seen = { parse: 0, decode: 0 };
  const parse = JSON.parse;
  const decode = TextDecoder.prototype.decode;
  JSON.parse = function (this: unknown, text: string, reviver?: Parameters<typeof parse>[1]) {
    seen.parse = Math.max(seen.parse, text.length);
    return parse.call(this, text, reviver);
  } as typeof parse;
  TextDecoder.prototype.decode = function (this: TextDecoder, ...args: Parameters<typeof decode>) {
    const out = decode.apply(this, args);
    seen.decode = Math.max(seen.decode, out.length);
    return out;
  };
  let changes: number;
  try {
    changes = (await readManifest(reader.open(MANIFEST_NAME))).changes.length;
  } finally {
    JSON.parse = parse;
    TextDecoder.prototype.decode = decode;
  }
  assert.equal(changes, 50_000);
  assert.ok(seen.parse > 100 && seen.parse <= 128 * 1024, `largest JSON.parse input: ${seen.parse}`);
  assert.ok(seen.decode > 0 && seen.decode <= 128 * 1024, `largest decoded piece: ${seen.decode}`);
});
