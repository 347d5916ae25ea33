/**
 * The encryption checks every runtime runs (Node in test/crypto/, Deno, Chromium, workerd, Bun):
 * the segment format's known-answer vectors (test/crypto/vectors.json, handed over by the runner
 * beside the engine fixtures) encrypted with that runtime's WebCrypto must be the stored bytes
 * byte for byte (or their SHA-256, for the long ones) and decrypt back, and the engine's
 * Argon2id must give RFC 9106's tag. A runtime whose AES-GCM, HKDF or WASM differed would fail
 * here. Imports only node:test, node:assert and the library.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { argon2id, collect, decryptObject, encryptObject, importMasterKey } from "../../src/index.js";
import { toHex } from "./data.js";
import type { FixtureLoader } from "./engine-cases.js";

/** Where the runners put the vectors, beside the engine fixtures. */
export const CRYPTO_VECTORS_FILE = "crypto-vectors.json";

interface VectorCase {
  label: string;
  segmentSize: number;
  plaintextSize: number;
  ciphertextSize: number;
  ciphertextHex?: string;
  ciphertextSha256?: string;
}

interface Vectors {
  masterKeyHex: string;
  saltHex: string;
  name: string;
  cases: VectorCase[];
}

const fromHex = (hex: string): Uint8Array => Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (7 * i + 3) & 255);
const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

export function cryptoCases(load: FixtureLoader): void {
  test("encryption: every known-answer vector of the segment format, byte for byte, and back", async () => {
    const v = JSON.parse(new TextDecoder().decode(await load(CRYPTO_VECTORS_FILE))) as Vectors;
    assert.ok(v.cases.length >= 5, "the vectors arrived");
    const key = await importMasterKey(fromHex(v.masterKeyHex));
    const salt = fromHex(v.saltHex);
    for (const c of v.cases) {
      const plaintext = pattern(c.plaintextSize);
      const stored = await collect(encryptObject(key, v.name, plaintext, { segmentSize: c.segmentSize, salt }));
      assert.equal(stored.length, c.ciphertextSize, c.label);
      if (c.ciphertextHex !== undefined) assert.equal(toHex(stored), c.ciphertextHex, c.label);
      else assert.equal(toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", stored as Uint8Array<ArrayBuffer>))), c.ciphertextSha256, c.label);
      const back = await collect(decryptObject(key, v.name, stored, c.segmentSize));
      assert.equal(toHex(back), toHex(plaintext), `${c.label}: decrypts back`);
    }
  });

  test("encryption: the engine's Argon2id gives RFC 9106 section 5.3's tag", async () => {
    const tag = await argon2id(fill(32, 1), fill(16, 2), { memoryKiB: 32, passes: 3, parallelism: 4, tagLength: 32, secret: fill(8, 3), associatedData: fill(12, 4) });
    assert.equal(toHex(tag), "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
  });
}
