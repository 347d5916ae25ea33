/**
 * What the Deno suite shares: the work folder the runner (test/deno/run.mjs) made, the only place
 * Deno may write, holding Node's engine fixtures and Node's round-trip fingerprint; and fresh
 * folders inside it for each test. Runs under Deno only (node:fs through Deno's Node layer).
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
/** The work folder, from the one environment variable the suite may read. */
export const WORK = (() => {
    const dir = process.env.IBT_DENO_WORK;
    if (!dir)
        throw new Error("IBT_DENO_WORK is not set: run the Deno suite with `npm run test:deno`");
    return dir;
})();
export const readWork = async (file) => new Uint8Array(await readFile(join(WORK, file)));
/** The directory round trip's fingerprint, made by Node in memory before Deno started. */
export const reference = async () => JSON.parse(new TextDecoder().decode(await readWork("roundtrip-reference.json")));
/** A fresh folder under the work folder, and a function that removes it. */
export async function freshFolder() {
    await mkdir(join(WORK, "tmp"), { recursive: true });
    const dir = await mkdtemp(join(WORK, "tmp", "t-"));
    return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
/** Deno's permission API, and a check that this really is Deno. */
export function denoPermissions() {
    const deno = globalThis.Deno;
    if (!deno)
        throw new Error("not running under Deno");
    return deno.permissions;
}
//# sourceMappingURL=work.js.map