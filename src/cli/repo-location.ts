/**
 * Which repository a command is about, as restic users expect: the REPO argument where it is
 * given, else `-r/--repo REPO`, else the `IBT_REPOSITORY` variable. A command names how many
 * other arguments it takes and where REPO sits among them, so that `ibt restore REPO TARGET`
 * and, with IBT_REPOSITORY set, `ibt restore TARGET` both read. REPO given both as an argument
 * and with -r is refused rather than one of them silently winning.
 */
import { IbtError } from "../errors.js";
import { value, type Parsed } from "./args.js";

export interface RepositoryArgs {
  location: string;
  /** The command's other arguments, in order. */
  args: string[];
}

/**
 * Splits the positionals of `usage` (for example "restore REPO TARGET"): REPO is the word
 * "REPO" in it; every other upper-case word is one required argument.
 */
export function repositoryArgs(p: Parsed, usage: string, env: Record<string, string | undefined> = process.env): RepositoryArgs {
  const words = usage.split(" ").slice(1).filter((w) => /^[A-Z_]+$/.test(w));
  const at = words.indexOf("REPO");
  const others = words.length - 1;
  const given = p.positionals;
  const flagged = value(p, "repo");
  const wrong = () => new IbtError("BAD_ARGUMENT", `usage: ibt ${usage} (see ibt ${usage.split(" ")[0]} --help)`);
  if (given.length === others + 1) {
    if (flagged !== undefined) throw new IbtError("BAD_ARGUMENT", "the repository is given twice: as an argument and with -r/--repo");
    return { location: given[at]!, args: given.filter((_, i) => i !== at) };
  }
  if (given.length !== others) throw wrong();
  const location = flagged ?? env["IBT_REPOSITORY"];
  if (location === undefined || location === "") {
    throw new IbtError("BAD_ARGUMENT", `no repository given: name it as REPO, with -r/--repo REPO, or in IBT_REPOSITORY (usage: ibt ${usage})`);
  }
  return { location, args: [...given] };
}
