/**
 * Known-answer vectors of the encrypted object format (test/crypto/vectors.json), checked two
 * ways: our WebCrypto code must produce them, and an independent recomputation from the format
 * as docs/encryption.md writes it down, with node:crypto's HKDF and AES-256-GCM, must too.
 * Plus the size arithmetic both ways, and the refusal of sizes no object has.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCipheriv, createHash, hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { collect } from "../../src/bytes.js";
import { isIbtError } from "../../src/errors.js";
import { ciphertextSize, decryptObject, encryptObject, importMasterKey, plaintextSize } from "../../src/crypto/segments.js";

interface VectorCase {
  label: string;
  segmentSize: number;
  plaintextSize: number;
  ciphertextSize: number;
  ciphertextHex?: string;
  ciphertextSha256?: string;
}
const vectors = JSON.parse(readFileSync(new URL("../../../test/crypto/vectors.json", import.meta.url), "utf8")) as {
  masterKeyHex: string;
  saltHex: string;
  name: string;
  cases: VectorCase[];
};
const master = Buffer.from(vectors.masterKeyHex, "hex");
const salt = Buffer.from(vectors.saltHex, "hex");
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (7 * i + 3) & 255);

function matches(c: VectorCase, bytes: Uint8Array): void {
  assert.equal(bytes.length, c.ciphertextSize, c.label);
  if (c.ciphertextHex !== undefined) assert.equal(Buffer.from(bytes).toString("hex"), c.ciphertextHex, c.label);
  else assert.equal(createHash("sha256").update(bytes).digest("hex"), c.ciphertextSha256, c.label);
}

/** The format as the documentation states it, built from node:crypto alone. */
function independentEncryption(segmentSize: number, plaintext: Uint8Array): Uint8Array {
  const header = Buffer.alloc(44);
  header.write("IBTE", 0, "latin1");
  header[4] = 1;
  header.writeUInt32BE(segmentSize, 8);
  salt.copy(header, 12);
  const key = Buffer.from(hkdfSync("sha256", master, salt, Buffer.from("ibt encrypted object v1"), 32));
  const aad = Buffer.concat([header, Buffer.from(vectors.name, "utf8")]);
  const count = Math.max(1, Math.ceil(plaintext.length / segmentSize));
  const parts: Buffer[] = [header];
  for (let i = 0; i < count; i++) {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(BigInt(i), 0);
    nonce[11] = i === count - 1 ? 1 : 0;
    const cipher = createCipheriv("aes-256-gcm", key, nonce);
    cipher.setAAD(aad);
    parts.push(cipher.update(plaintext.subarray(i * segmentSize, (i + 1) * segmentSize)), cipher.final(), cipher.getAuthTag());
  }
  return Buffer.concat(parts);
}

test("the code produces every known-answer vector, and decrypts it back", async () => {
  const key = await importMasterKey(master);
  for (const c of vectors.cases) {
    const plaintext = pattern(c.plaintextSize);
    const stored = await collect(encryptObject(key, vectors.name, plaintext, { segmentSize: c.segmentSize, salt }));
    matches(c, stored);
    assert.deepEqual(await collect(decryptObject(key, vectors.name, stored, c.segmentSize)), plaintext, c.label);
  }
});

test("node:crypto, following the documented format, produces every known-answer vector", () => {
  for (const c of vectors.cases) matches(c, independentEncryption(c.segmentSize, pattern(c.plaintextSize)));
});

test("the vectors cover empty, 1 byte, one segment, one segment + 1, three segments", () => {
  const sizes = vectors.cases.filter((c) => c.segmentSize === 65536).map((c) => c.plaintextSize);
  assert.deepEqual(sizes, [0, 1, 65536, 65537, 2 * 65536 + 100]);
});

test("stored size and plaintext size convert both ways, for every size near segment boundaries", () => {
  for (const segmentSize of [1, 2, 7, 16, 65536]) {
    for (let size = 0; size <= 5 * segmentSize + 3 && size < 200_000; size += segmentSize > 100 ? 4096 : 1) {
      assert.equal(plaintextSize(ciphertextSize(size, segmentSize), segmentSize, "x"), size);
    }
    for (const k of [1, 2, 3]) {
      for (const size of [k * segmentSize - 1, k * segmentSize, k * segmentSize + 1]) {
        assert.equal(plaintextSize(ciphertextSize(size, segmentSize), segmentSize, "x"), size);
      }
    }
  }
});

test("stored sizes that no object has are refused with AUTH_FAILED naming the object", () => {
  const valid = new Set<number>();
  for (let size = 0; size < 100; size++) valid.add(ciphertextSize(size, 7));
  for (let stored = 0; stored < ciphertextSize(99, 7); stored++) {
    if (valid.has(stored)) continue;
    assert.throws(
      () => plaintextSize(stored, 7, "data/abc"),
      (e: unknown) => isIbtError(e, "AUTH_FAILED") && e.path === "data/abc",
      `stored size ${stored}`,
    );
  }
  // A cut inside the header, an empty trailing segment after a full one.
  assert.ok(valid.size === 100);
  assert.throws(() => plaintextSize(43, 7, "x"), (e: unknown) => isIbtError(e, "AUTH_FAILED"));
  assert.throws(() => plaintextSize(44 + 23 + 16, 7, "x"), (e: unknown) => isIbtError(e, "AUTH_FAILED"));
});
