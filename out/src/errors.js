export class IbtError extends Error {
    code;
    path;
    offset;
    caller;
    constructor(code, message, data = {}) {
        super(message, data.cause === undefined ? undefined : { cause: data.cause });
        this.name = "IbtError";
        this.code = code;
        this.path = data.path;
        this.offset = data.offset;
        this.caller = data.caller;
    }
    toJSON() {
        const json = { name: this.name, code: this.code, message: this.message };
        if (this.path !== undefined)
            json.path = this.path;
        if (this.offset !== undefined)
            json.offset = this.offset;
        if (this.caller !== undefined)
            json.caller = this.caller;
        return json;
    }
    /** Rebuilds an error from its `toJSON` form, for example after `postMessage`. */
    static from(json) {
        const data = {};
        if (json.path !== undefined)
            data.path = json.path;
        if (json.offset !== undefined)
            data.offset = json.offset;
        if (json.caller !== undefined)
            data.caller = json.caller;
        return new IbtError(json.code, json.message, data);
    }
}
export function isIbtError(e, code) {
    return e instanceof IbtError && (code === undefined || e.code === code);
}
//# sourceMappingURL=errors.js.map