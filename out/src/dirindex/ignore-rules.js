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
export class IgnoreRules {
    scopes;
    constructor(scopes) {
        this.scopes = scopes;
    }
    /** Rules from option patterns only (relative to the root). */
    static root(patterns = []) {
        return new IgnoreRules(patterns.length ? [{ dir: "", matcher: ignore().add(patterns) }] : []);
    }
    /** The rules inside `dir`, adding the patterns of its ignore files (`texts`, in order). */
    child(dir, texts) {
        const content = texts.filter((t) => t.trim() !== "");
        if (content.length === 0)
            return this;
        const matcher = ignore();
        for (const t of content)
            matcher.add(t);
        return new IgnoreRules([...this.scopes, { dir, matcher }]);
    }
    /** Whether `path` (root-relative; a directory when `isDir`) is excluded. */
    ignores(path, isDir) {
        // Deepest scope first: the first one with a verdict decides.
        for (let i = this.scopes.length - 1; i >= 0; i--) {
            const scope = this.scopes[i];
            let rel;
            if (scope.dir === "")
                rel = path;
            else if (path.startsWith(scope.dir + "/"))
                rel = path.slice(scope.dir.length + 1);
            else
                continue;
            const result = scope.matcher.test(isDir ? rel + "/" : rel);
            if (result.ignored)
                return true;
            if (result.unignored)
                return false;
        }
        return false;
    }
}
//# sourceMappingURL=ignore-rules.js.map