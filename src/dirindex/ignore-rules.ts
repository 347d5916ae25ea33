/**
 * Exclusion with `.gitignore` semantics, through the `ignore` package.
 *
 * Git reads an ignore file in every directory and applies its patterns to paths relative to that
 * directory; a pattern in a deeper file takes precedence over one in a shallower file, and within
 * one file the last matching pattern wins (which `ignore` implements). Patterns given as options
 * behave like `.git/info/exclude`: relative to the root, weakest of all. A directory that is
 * excluded is not entered, so nothing inside it can be re-included by a negation (also git's
 * rule). Directories are tested with a trailing "/" so that "dir/" patterns match them only.
 *
 * `IgnoreRules` is immutable: `child(dir, text)` returns the rules in force inside `dir` after
 * reading that directory's ignore files, sharing everything above.
 */
import ignore from "ignore";

interface Scope {
  /** Directory the patterns are relative to ("" for the root). */
  dir: string;
  matcher: ReturnType<typeof ignore>;
}

export class IgnoreRules {
  private constructor(private readonly scopes: readonly Scope[]) {}

  /** Rules from option patterns only (relative to the root). */
  static root(patterns: readonly string[] = []): IgnoreRules {
    return new IgnoreRules(patterns.length ? [{ dir: "", matcher: ignore().add(patterns as string[]) }] : []);
  }

  /** The rules inside `dir`, adding the patterns of its ignore files (`texts`, in order). */
  child(dir: string, texts: readonly string[]): IgnoreRules {
    const content = texts.filter((t) => t.trim() !== "");
    if (content.length === 0) return this;
    const matcher = ignore();
    for (const t of content) matcher.add(t);
    return new IgnoreRules([...this.scopes, { dir, matcher }]);
  }

  /** Whether `path` (root-relative; a directory when `isDir`) is excluded. */
  ignores(path: string, isDir: boolean): boolean {
    // Deepest scope first: the first one with a verdict decides.
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i]!;
      let rel: string;
      if (scope.dir === "") rel = path;
      else if (path.startsWith(scope.dir + "/")) rel = path.slice(scope.dir.length + 1);
      else continue;
      const result = scope.matcher.test(isDir ? rel + "/" : rel);
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    return false;
  }
}
