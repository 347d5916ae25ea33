/**
 * What S3Store uses in Node in place of the portable defaults (`nodeS3Options`): requests over
 * node:http and node:https instead of fetch, and node:crypto's SHA-256 for bodies it signs.
 *
 * Node's fetch copies a request body twice before it sends it (the Fetch standard's copy, then
 * its stream's), which costs more CPU than the upload itself on loopback; node:http writes the
 * caller's bytes as they are. Answers are gathered as fetch's are (BodyGatherer). Connections are
 * kept alive between requests by the transport's own agents, whose idle sockets do not hold the
 * process open. node:http and node:https are loaded on the first request of their scheme, not
 * with the module: every CLI command loads this module, and node:https costs it 16 ms. A failure
 * of any kind (refused, reset, an answer cut short, the attempt's signal) rejects, and S3Client
 * decides whether to try again.
 *
 * Node's WebCrypto copies a body before hashing it; node:crypto hashes the caller's bytes.
 */
import { createHash } from "node:crypto";
import type { Agent, IncomingHttpHeaders, request as httpRequest } from "node:http";
import { BodyGatherer, type HttpAnswer, type HttpTransport } from "../store/s3/client.js";
import type { S3StoreOptions } from "../store/s3/s3-store.js";

/** S3Store's options for Node: the node:http transport and node:crypto's SHA-256. */
export function nodeS3Options(): Pick<S3StoreOptions, "transport" | "sha256"> {
  return { transport: nodeHttpTransport(), sha256: nodeSha256Hex };
}

/** Lower-case hex SHA-256 of `body`. */
async function nodeSha256Hex(body: Uint8Array): Promise<string> {
  return createHash("sha256").update(body).digest("hex");
}

/** An answer's headers as node:http gives them, read by name like fetch's Headers. */
class NodeHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  }
}

interface Sender {
  request: typeof httpRequest;
  agent: Agent;
}

/** A transport with its own keep-alive agents for http and https. */
export function nodeHttpTransport(): HttpTransport {
  const senders = new Map<string, Promise<Sender>>();
  const senderFor = (protocol: "http:" | "https:"): Promise<Sender> => {
    let made = senders.get(protocol);
    if (!made) {
      // Idle sockets are closed after 5 s, as Node's own global agent does, so that few requests
      // meet a connection the server has just closed (which fails, and is retried).
      const kept = { keepAlive: true, timeout: 5000 };
      made = (protocol === "https:" ? import("node:https") : import("node:http")).then((m) => ({ request: m.request, agent: new m.Agent(kept) }));
      senders.set(protocol, made);
    }
    return made;
  };
  return async (attempt) => {
    const { url, body, signal } = attempt;
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`not an http or https URL: ${url.protocol}`);
    const { request: send, agent } = await senderFor(url.protocol);
    if (signal.aborted) throw signal.reason;
    const headers: Record<string, string> = { ...attempt.headers };
    if (body !== undefined || attempt.method === "PUT" || attempt.method === "POST") headers["content-length"] = String(body?.length ?? 0);
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        request.destroy();
        reject(error);
      };
      const onAbort = () => fail(signal.reason);
      const request = send(url, { method: attempt.method, headers, agent }, (response) => {
        attempt.progress();
        const gathered = new BodyGatherer(response.headers["content-length"], attempt.method !== "HEAD");
        response.on("data", (piece: Buffer) => {
          gathered.add(piece);
          attempt.progress();
        });
        response.on("error", fail);
        response.on("aborted", () => fail(new Error("the connection closed during the answer")));
        response.on("end", () => {
          if (!response.complete) return fail(new Error("the connection closed during the answer"));
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          resolve({ status: response.statusCode ?? 0, headers: new NodeHeaders(response.headers), body: gathered.body() });
        });
      });
      signal.addEventListener("abort", onAbort, { once: true });
      request.on("error", fail);
      request.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  };
}
