/**
 * Where the CLI finds a repository's password, in restic's order: a file named on the command
 * line (`--password-file`), a file named by `IBT_PASSWORD_FILE`, the first line a shell command
 * prints (`IBT_PASSWORD_COMMAND`), the variable `IBT_PASSWORD`, and last a prompt without echo
 * when stdin is a terminal. Without any of them the answer is a BAD_ARGUMENT that lists them, so
 * a script fails at once instead of waiting on a prompt no one sees.
 *
 * A new password (for `key add` and `key passwd`) comes from `--new-password-file`, then
 * `IBT_NEW_PASSWORD`, then a prompt asked twice. A password for a new repository comes from the
 * ordinary sources, with the prompt asked twice too, since a mistyped one would lock its owner
 * out of everything written under it.
 *
 * From a file or a command the first line is the password, without its line ending, as restic
 * reads them; an empty password is refused. No message here ever contains a password.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { IbtError } from "../errors.js";
import { canPrompt, promptHidden } from "./password-prompt.js";

type Env = Record<string, string | undefined>;

export interface PasswordSources {
  /** `--password-file`, or `--new-password-file` for a new password. */
  file?: string | undefined;
  env?: Env;
  /** The prompt's question; a second one asks for the same again when `confirm` is set. */
  prompt: string;
  /** Ask twice at a prompt (a new password). */
  confirm?: boolean;
}

const SOURCES = "--password-file FILE, IBT_PASSWORD_FILE, IBT_PASSWORD_COMMAND or IBT_PASSWORD";

/** The password for opening or creating a repository, from the first source that has one. */
export async function readPassword(sources: PasswordSources): Promise<string> {
  const env = sources.env ?? process.env;
  if (sources.file !== undefined) return firstLine(readPasswordFile(sources.file), `the password file ${sources.file}`);
  const envFile = env["IBT_PASSWORD_FILE"];
  if (envFile) return firstLine(readPasswordFile(envFile), `the password file ${envFile} (IBT_PASSWORD_FILE)`);
  const command = env["IBT_PASSWORD_COMMAND"];
  if (command) return firstLine(runPasswordCommand(command, env), "the output of IBT_PASSWORD_COMMAND");
  const variable = env["IBT_PASSWORD"];
  if (variable !== undefined && variable !== "") return firstLine(variable, "IBT_PASSWORD");
  if (canPrompt()) return prompted(sources);
  throw new IbtError("BAD_ARGUMENT", `a password is needed: give one with ${SOURCES}, or run ibt on a terminal to be asked`);
}

/** A new password for `key add` or `key passwd`. */
export async function readNewPassword(sources: PasswordSources): Promise<string> {
  const env = sources.env ?? process.env;
  if (sources.file !== undefined) return firstLine(readPasswordFile(sources.file), `the password file ${sources.file}`);
  const variable = env["IBT_NEW_PASSWORD"];
  if (variable !== undefined && variable !== "") return firstLine(variable, "IBT_NEW_PASSWORD");
  if (canPrompt()) return prompted({ ...sources, confirm: true });
  throw new IbtError("BAD_ARGUMENT", "a new password is needed: give one with --new-password-file FILE or IBT_NEW_PASSWORD, or run ibt on a terminal to be asked");
}

async function prompted(sources: PasswordSources): Promise<string> {
  const password = firstLine(await promptHidden(sources.prompt), "the password typed");
  if (sources.confirm && (await promptHidden("enter the password again: ")) !== password) {
    throw new IbtError("BAD_ARGUMENT", "the two passwords typed differ");
  }
  return password;
}

function readPasswordFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new IbtError("NOT_FOUND", `the password file ${file} does not exist`, { path: file });
    throw new IbtError("IO", `the password file ${file} cannot be read (${code ?? "error"})`, { path: file });
  }
}

/** Runs `command` through the shell; its stderr and stdin are the user's, its stdout the password. */
function runPasswordCommand(command: string, env: Env): string {
  const r = spawnSync(command, { shell: true, env: env as NodeJS.ProcessEnv, stdio: ["inherit", "pipe", "inherit"], encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.error) throw new IbtError("BAD_ARGUMENT", `IBT_PASSWORD_COMMAND could not be run (${(r.error as NodeJS.ErrnoException).code ?? "error"})`);
  if (r.status !== 0) throw new IbtError("BAD_ARGUMENT", `IBT_PASSWORD_COMMAND failed (${r.status === null ? `signal ${r.signal}` : `exit status ${r.status}`})`);
  return r.stdout;
}

/** The first line of `text` without its line ending; BAD_ARGUMENT, naming `from`, if it is empty. */
function firstLine(text: string, from: string): string {
  const line = text.split("\n", 1)[0]!.replace(/\r$/, "");
  if (line === "") throw new IbtError("BAD_ARGUMENT", `${from} gives an empty password`);
  return line;
}
