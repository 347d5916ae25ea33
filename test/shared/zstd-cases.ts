/**
 * The ZIP method 93 (Zstandard) check every runtime runs (Node in test/archive/, Deno, Chromium,
 * workerd, Bun): ZipReader, with no codec of the runtime's, reads the members of an archive the
 * zstd CLI's frames were put in (test/fixtures/zstd-members.ts, made by make-zstd-members.mjs)
 * through the portable decoder, and gets the generated text back byte for byte; a copy with one
 * byte of a frame changed is refused. Browsers and workerd have no zstd of their own, so this is
 * what their users' restores of zstd archives rely on. Imports only node:test, node:assert, the
 * library and the fixture.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ZipReader, isIbtError } from "../../src/index.js";
import { ZSTD_MEMBERS } from "../fixtures/zstd-members.js";
import { rng, textBytes } from "./data.js";

function fixtureZip(): Uint8Array {
  return Uint8Array.from(atob(ZSTD_MEMBERS.zipBase64), (c) => c.charCodeAt(0));
}

function reader(zip: Uint8Array): Promise<ZipReader> {
  return ZipReader.from({ size: zip.length, read: async (offset, length) => zip.slice(offset, offset + length) });
}

export function zstdCases(runtime: string): void {
  test(`${runtime}: zstd members (method 93) decode to their exact bytes with the portable decoder`, async () => {
    const expected = textBytes(rng(ZSTD_MEMBERS.seed), ZSTD_MEMBERS.length);
    const r = await reader(fixtureZip());
    assert.deepEqual(r.entries().map((e) => [e.name, e.method, e.size]), ZSTD_MEMBERS.names.map((n) => [n, 93, expected.length]));
    for (const name of ZSTD_MEMBERS.names) {
      const out = await r.bytes(name);
      assert.equal(out.length, expected.length, name);
      let diff = -1;
      for (let i = 0; i < out.length && diff < 0; i++) if (out[i] !== expected[i]) diff = i;
      assert.equal(diff, -1, `${name}: first difference at byte ${diff}`);
    }
  });

  test(`${runtime}: a zstd member with a changed byte is refused as CORRUPT`, async () => {
    const zip = fixtureZip();
    const r = await reader(zip);
    const first = r.entries()[0]!;
    // 30 (local header) + name: the frame starts there; change a byte well inside its block.
    zip[first.offset + 30 + first.name.length + 200]! ^= 0x20;
    await assert.rejects(r.through({ size: zip.length, read: async (o, n) => zip.slice(o, o + n) }).bytes(first), (e) => isIbtError(e, "CORRUPT"));
  });
}
