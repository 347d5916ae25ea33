/**
 * A fetch that fails on purpose, wrapped around a real one, for S3Store's retry tests. Each fault
 * matches requests by method and URL and fires a set number of times; requests no fault takes
 * pass through. Every request is logged (method, path and query, the headers sent) so a test can
 * count attempts and look at what was signed.
 */

export type FaultKind =
  | { status: number; code?: string } // answer with this status and an S3 error document
  | { reject: true } // fetch rejects without reaching the server
  | { dropAnswer: true } // the server carries the request out, then the answer is lost
  | { breakBody: true }; // the answer's body fails half-way through

export interface Fault {
  method?: string;
  /** Matched against the path and query. */
  url?: RegExp;
  times: number;
  kind: FaultKind;
}

export interface LoggedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

export function faultFetch(inner: typeof fetch, faults: Fault[], log: LoggedRequest[] = []): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? "GET";
    const path = url.pathname + url.search;
    log.push({ method, path, headers: { ...(init?.headers as Record<string, string>) } });
    const fault = faults.find((f) => f.times > 0 && (f.method === undefined || f.method === method) && (f.url === undefined || f.url.test(path)));
    if (!fault) return inner(input, init);
    fault.times--;
    const kind = fault.kind;
    if ("status" in kind) {
      const body = kind.code ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${kind.code}</Code><Message>injected</Message></Error>` : null;
      return new Response(method === "HEAD" ? null : body, { status: kind.status, headers: { "content-type": "application/xml" } });
    }
    if ("reject" in kind) throw new TypeError("fetch failed");
    const answer = await inner(input, init);
    if ("dropAnswer" in kind) {
      await answer.arrayBuffer();
      throw new TypeError("fetch failed: other side closed");
    }
    const bytes = new Uint8Array(await answer.arrayBuffer());
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, bytes.length >> 1));
      },
      pull(controller) {
        controller.error(new TypeError("terminated: other side closed"));
      },
    });
    return new Response(broken, { status: answer.status, headers: answer.headers });
  };
}
