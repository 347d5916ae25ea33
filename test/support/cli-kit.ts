/**
 * Running the ibt CLI as a user would, for the tests of repositories on S3 and encrypted
 * repositories: asynchronously (the strict S3 server runs in the test's own process, so a
 * synchronous spawn would wait on a server it blocks), with an environment built from nothing
 * but PATH and a HOME of the test's own (so no ~/.aws or IBT_* of whoever runs the tests leaks
 * in), and at a pseudo-terminal through util-linux's `script` for the password prompt.
 *
 * New keys use IBT_TEST_KDF_MEMORY_KIB=64 unless a test clears it, so a derivation costs
 * milliseconds; the one test that checks the default cost says so.
 */
import { spawn } from "node:child_process";
import { IBT, tempDir } from "./helpers.js";

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export type Env = Record<string, string | undefined>;

/** A clean environment for the CLI: PATH, a fresh HOME, cheap test keys, and `extra`. */
export function cliEnv(extra: Env = {}): Env {
  return { PATH: process.env["PATH"], HOME: tempDir(), IBT_TEST_KDF_MEMORY_KIB: "64", ...extra };
}

/** Runs `ibt args` with `env` (stdin closed, or `input`); resolves when it exits. */
export function ibtAsync(args: string[], env: Env, input?: string): Promise<CliResult> {
  return collect(spawn(process.execPath, [IBT, ...args], { env: defined(env), stdio: ["pipe", "pipe", "pipe"] }), input);
}

/**
 * Runs `ibt args` on a pseudo-terminal (util-linux `script`), answering each prompt that appears
 * with the next of `answers` followed by Enter. Output of both streams arrives as one, with
 * the terminal's line endings.
 */
export function ibtAtTerminal(args: string[], env: Env, answers: string[]): Promise<CliResult> {
  const command = [process.execPath, IBT, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], { env: defined(env), stdio: ["pipe", "pipe", "pipe"] });
  let seen = "";
  let prompts = 0;
  child.stdout.on("data", (d: Buffer) => {
    seen += d.toString();
    // Each prompt ends in ": " and is answered once, after it is shown, so nothing typed is early.
    const shown = seen.split(/password[^:\n]*: /).length - 1;
    while (prompts < shown && prompts < answers.length) child.stdin.write(`${answers[prompts++]}\r`);
  });
  return collect(child);
}

function defined(env: Env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
}

function collect(child: ReturnType<typeof spawn>, input?: string): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  if (input !== undefined) child.stdin!.end(input);
  else if (child.spawnargs[0] !== "script") child.stdin!.end();
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => {
      child.stdin!.destroy();
      resolve({ status, stdout, stderr });
    });
  });
}
