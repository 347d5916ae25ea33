/**
 * Runs an S3 suite again with its stores in Node's setting (src/node/http-transport.ts, what the
 * CLI uses: requests over node:http, bodies hashed by node:crypto) instead of fetch and WebCrypto: every store the suite makes through storeOn or
 * repoStoreOn, except those given a fetch of their own (the wrapped fetches of a few fault tests).
 * It counts the requests sent that way and fails if there were none, so a suite that stopped
 * using the kit's stores cannot pass here without testing the transport.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeS3Options } from "../../src/node/http-transport.js";
import type { HttpTransport } from "../../src/store/index.js";
import { sendThrough } from "./s3-strict-kit.js";

export async function rerunOverNodeHttp(importSuite: () => Promise<unknown>): Promise<void> {
  let sent = 0;
  sendThrough(() => {
    const node = nodeS3Options();
    const transport: HttpTransport = node.transport!;
    return {
      ...node,
      transport: (attempt) => {
        sent++;
        return transport(attempt);
      },
    };
  });
  await importSuite();
  // Declared after the suite's tests, so it runs after them.
  test("the suite's requests went over node:http", () => assert.ok(sent > 0, "no request went through the node:http transport"));
}
