#!/usr/bin/env node
/**
 * ibt: the command-line face of incremental-backups-tools. One line per error on stderr
 * ("ibt: CODE: message"), exit status 1 for failed work and 2 for bad usage. A stack trace is
 * for whoever debugs ibt, not for its users: it is printed only for an error that is not an
 * IbtError (a bug) and only when IBT_DEBUG is set.
 */
import { IbtError } from "../errors.js";
import { parseArgs } from "./args.js";
import { RDIFF_OPTIONS, RDIFF_USAGE, signatureCommand, deltaCommand, patchCommand } from "./rdiff.js";
import { DIR_OPTIONS, DIR_USAGE } from "./dir-options.js";
import { REPO_OPTIONS, REPO_USAGE, REPO_HELP } from "./repo-options.js";

const VERSION = "0.1.0";

const COMMANDS: Record<string, (p: ReturnType<typeof parseArgs>) => Promise<void>> = {
  signature: signatureCommand,
  delta: deltaCommand,
  patch: patchCommand,
  index: async (p) => (await import("./dirs.js")).indexCommand(p),
  diff: async (p) => (await import("./dirs.js")).diffCommand(p),
  apply: async (p) => (await import("./dirs.js")).applyCommand(p),
  init: async (p) => (await import("./repo.js")).initCommand(p),
  backup: async (p) => (await import("./repo.js")).backupCommand(p),
  snapshots: async (p) => (await import("./repo.js")).snapshotsCommand(p),
  restore: async (p) => (await import("./repo.js")).restoreCommand(p),
  verify: async (p) => (await import("./repo.js")).verifyCommand(p),
  forget: async (p) => (await import("./repo.js")).forgetCommand(p),
  unlock: async (p) => (await import("./repo.js")).unlockCommand(p),
  key: async (p) => (await import("./key.js")).keyCommand(p),
};

/** One line, whatever the message holds, so each error is one line of a log. */
const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, " ");

const USAGE = RDIFF_USAGE.replace("\nOptions", `${DIR_USAGE}${REPO_USAGE}\nOptions`);

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("-V") || argv.includes("--version")) {
    process.stdout.write(`ibt ${VERSION} (librsync 2.x formats)\n`);
    return 0;
  }
  const help = argv.some((a) => a === "-h" || a === "-?" || a === "--help");
  try {
    const parsed = parseArgs(
      argv.filter((a) => a !== "-h" && a !== "-?" && a !== "--help"),
      [...RDIFF_OPTIONS, ...DIR_OPTIONS, ...REPO_OPTIONS],
    );
    const name = parsed.positionals.shift();
    if (help && name !== undefined && Object.hasOwn(REPO_HELP, name)) {
      process.stdout.write(REPO_HELP[name as keyof typeof REPO_HELP]);
      return 0;
    }
    if (help || name === undefined) {
      process.stdout.write(USAGE);
      return help ? 0 : 2;
    }
    const command = COMMANDS[name];
    if (!command) throw new IbtError("BAD_ARGUMENT", `unknown command "${name}" (try ibt --help)`);
    await command(parsed);
    // A command that finished its report may still fail the run (verify finding damage).
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof IbtError) {
      process.stderr.write(`ibt: ${e.code}: ${oneLine(e.message)}\n`);
      return e.code === "BAD_ARGUMENT" ? 2 : 1;
    }
    const debug = process.env["IBT_DEBUG"] && e instanceof Error && e.stack ? `\n${e.stack}` : "";
    process.stderr.write(`ibt: INTERNAL: ${oneLine(e instanceof Error ? e.message : String(e))}${debug}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Once the report is out, exit instead of letting the runtime tear the heap down object by
    // object, which is slow after a large index; the write callbacks wait for the flush.
    process.stdout.write("", () => process.stderr.write("", () => process.exit()));
  },
  (e) => {
    process.stderr.write(`ibt: INTERNAL: ${oneLine(String(e))}\n`);
    process.exitCode = 1;
  },
);
