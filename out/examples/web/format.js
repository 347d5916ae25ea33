/** Numbers as people read them: binary units, one decimal below 100, local dates. */
export function bytes(n) {
    if (n < 1024)
        return `${n} B`;
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let v = n / 1024;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
export function count(n, one, many = `${one}s`) {
    return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}
export function percent(part, whole) {
    if (whole <= 0)
        return "–";
    const p = (100 * part) / whole;
    return p >= 10 ? `${Math.round(p)}%` : `${p.toFixed(p >= 1 ? 1 : 2)}%`;
}
export function date(iso) {
    return new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}
//# sourceMappingURL=format.js.map