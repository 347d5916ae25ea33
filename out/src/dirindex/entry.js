/** applyDiff's and restore's staging directories at a tree's root: no index holds them. */
export const STAGING_PREFIX = ".ibt-staging-";
/** Entries compare by path in code-unit order, which is the order indexes are stored in. */
export function comparePaths(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
}
/** True when two entries describe the same content and metadata (signatures aside). */
export function sameEntry(a, b) {
    return (a.type === b.type &&
        a.size === b.size &&
        a.mtimeMs === b.mtimeMs &&
        a.mode === b.mode &&
        a.hash === b.hash &&
        a.target === b.target);
}
//# sourceMappingURL=entry.js.map