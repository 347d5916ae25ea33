/**
 * A fetch that connects to one local port whatever host the URL names, and sends the URL's host
 * as the Host header: what a DNS entry pointing `bucket.s3.test` at 127.0.0.1 would do. It lets a
 * client address a bucket virtual-hosted style, and sign that host, against a test server on
 * 127.0.0.1. Node's own fetch cannot: Host is a forbidden header name there, always derived from
 * the URL.
 *
 * Built on node:http. The answer is a web Response whose body streams as it arrives, so a
 * connection reset mid-body fails the reader as it would with fetch; the caller's signal aborts
 * the request at any point. Only what S3Store hands to fetch is supported: a URL string or URL, a
 * method, a flat header record and a Uint8Array or ArrayBuffer body.
 */
import { type RequestOptions, request } from "node:http";
import { Readable } from "node:stream";

export function routedFetch(port: number): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const method = init.method ?? "GET";
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      headers["host"] = url.host;
      const body = init.body == null ? undefined : init.body instanceof ArrayBuffer ? new Uint8Array(init.body) : (init.body as Uint8Array);
      // A PUT or POST without a body would otherwise go out chunked, which S3 refuses.
      if (method !== "GET" && method !== "HEAD") headers["content-length"] = String(body?.length ?? 0);
      const options: RequestOptions = { host: "127.0.0.1", port, method, path: url.pathname + url.search, headers };
      if (init.signal) options.signal = init.signal;
      const req = request(options, (res) => {
        const status = res.statusCode ?? 0;
        const bodiless = method === "HEAD" || status === 204 || status === 304;
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) answerHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        if (bodiless) res.resume();
        const stream = bodiless ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(new Response(stream, { status, headers: answerHeaders }));
      });
      req.on("error", reject);
      req.end(body);
    });
}
