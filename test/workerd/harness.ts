/**
 * What every test Worker shares: a fetch handler that, on `POST /run`, registers the Worker's
 * tests, runs them one after another (node:test is the browser suite's shim here, mapped by
 * run.mjs), sends each result to the runner through the REPORT service binding as it finishes,
 * and answers with all results as JSON. The request body is the runner's input (Node's reference
 * results); FIXTURES is a service binding that serves files Node made.
 *
 * A Worker file is `export default suiteWorker((env, input) => { test(...); ... })`. Further
 * bindings (an R2 bucket for the R2 store) arrive in `env` as the runner declares them.
 */
import { runCollected, type TestResult } from "../browser/node-test-shim.js";

/** A service binding: a Worker-side handle on a function the runner serves from Node. */
export interface Fetcher {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export interface HarnessEnv {
  REPORT: Fetcher;
  FIXTURES: Fetcher;
  [binding: string]: unknown;
}

/** Reads a file the runner serves, by its path under the runner's work folder. */
export async function fixture(env: HarnessEnv, path: string): Promise<Uint8Array> {
  const r = await env.FIXTURES.fetch(`http://fixtures/${path.split("/").map(encodeURIComponent).join("/")}`);
  if (!r.ok) throw new Error(`fixture ${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export function suiteWorker<Input>(register: (env: HarnessEnv, input: Input) => void): { fetch(request: Request, env: HarnessEnv): Promise<Response> } {
  return {
    async fetch(request, env) {
      if (request.method !== "POST" || new URL(request.url).pathname !== "/run") return new Response("POST /run", { status: 404 });
      register(env, (await request.json()) as Input);
      const report = (r: TestResult): Promise<unknown> => env.REPORT.fetch("http://report/", { method: "POST", body: JSON.stringify(r) });
      // Reports go out in order, each awaited before the next test's result is sent.
      let sent = Promise.resolve<unknown>(undefined);
      const results = await runCollected((r) => void (sent = sent.then(() => report(r))));
      await sent;
      return Response.json(results);
    },
  };
}
