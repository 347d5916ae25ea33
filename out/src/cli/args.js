/**
 * A small argument parser for the ibt CLI, with rdiff's conventions: short options with the
 * value attached or separate (-b 2048, -b2048), long options with = or a separate value, `--`
 * to end options, and `-` as an ordinary positional meaning stdin/stdout.
 */
import { IbtError } from "../errors.js";
export function parseArgs(argv, specs) {
    const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short, s]));
    const byLong = new Map(specs.map((s) => [s.long, s]));
    const options = new Map();
    const positionals = [];
    const put = (spec, v) => {
        const list = options.get(spec.long) ?? [];
        if (list.length && !spec.repeat && spec.value)
            list.length = 0;
        list.push(v);
        options.set(spec.long, list);
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--") {
            positionals.push(...argv.slice(i + 1));
            break;
        }
        if (arg.startsWith("--")) {
            const eq = arg.indexOf("=");
            const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
            const spec = byLong.get(name);
            if (!spec)
                throw new IbtError("BAD_ARGUMENT", `unknown option --${name}`);
            if (!spec.value) {
                if (eq >= 0)
                    throw new IbtError("BAD_ARGUMENT", `option --${name} takes no value`);
                put(spec, "");
                continue;
            }
            const v = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
            if (v === undefined)
                throw new IbtError("BAD_ARGUMENT", `option --${name} needs a value`);
            put(spec, v);
            continue;
        }
        if (arg.length > 1 && arg.startsWith("-")) {
            for (let k = 1; k < arg.length; k++) {
                const spec = byShort.get(arg[k]);
                if (!spec)
                    throw new IbtError("BAD_ARGUMENT", `unknown option -${arg[k]}`);
                if (!spec.value) {
                    put(spec, "");
                    continue;
                }
                const rest = arg.slice(k + 1);
                const v = rest.length ? rest : argv[++i];
                if (v === undefined)
                    throw new IbtError("BAD_ARGUMENT", `option -${spec.short} needs a value`);
                put(spec, v);
                break;
            }
            continue;
        }
        positionals.push(arg);
    }
    return { options, positionals };
}
export function flag(p, long) {
    return p.options.has(long);
}
export function value(p, long) {
    const v = p.options.get(long);
    return v ? v[v.length - 1] : undefined;
}
export function integer(p, long) {
    const v = value(p, long);
    if (v === undefined)
        return undefined;
    if (!/^-?\d+$/.test(v))
        throw new IbtError("BAD_ARGUMENT", `--${long} takes an integer, not "${v}"`);
    return Number(v);
}
//# sourceMappingURL=args.js.map