/**
 * One error class for the whole library. `code` is stable and meant for programs; `message` is
 * for people. `path` and `offset` say what the error concerns when that is known. Errors
 * survive `postMessage` and JSON through `toJSON` / `IbtError.from`.
 */
export type ErrorCode =
  | "BAD_ARGUMENT" // an option or parameter is out of range
  | "BAD_MAGIC" // a signature or delta does not start with a known magic number
  | "TRUNCATED" // input ended before its format says it may
  | "CORRUPT" // input is malformed in some other way
  | "OUT_OF_RANGE" // a delta copies bytes the basis does not have
  | "NOT_FOUND" // a file or path does not exist
  | "EXISTS" // an output exists and overwriting was not asked for
  | "NOT_A_DIRECTORY" // a directory was expected
  | "IS_A_DIRECTORY" // a file was expected
  | "UNSAFE_PATH" // absolute, "..", empty segments, backslashes, NUL: could leave its root
  | "READ_ONLY" // a write to a read-only file system
  | "BASE_MISMATCH" // a diff does not apply to this tree
  | "CHANGED" // a file changed while it was read
  | "UNSUPPORTED" // valid but not supported here
  | "LIMIT" // valid, but exceeds a configured limit (members, sizes)
  | "LOCKED" // another writer holds the repository's lock
  | "DENIED" // the storage refused our credentials or permissions (HTTP 401/403)
  | "WRONG_PASSWORD" // no key of an encrypted repository opens with the password given
  | "AUTH_FAILED" // an encrypted object failed authentication: changed, cut, swapped or replayed
  | "ABORTED" // the caller cancelled the operation (an AbortSignal, or onError said "abort")
  | "IO" // the platform failed to read or write
  | "INTERNAL"; // a bug: an invariant of this library broke

export interface IbtErrorData {
  path?: string;
  offset?: number;
  caller?: string;
  cause?: unknown;
}

export class IbtError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly offset: number | undefined;
  readonly caller: string | undefined;

  constructor(code: ErrorCode, message: string, data: IbtErrorData = {}) {
    super(message, data.cause === undefined ? undefined : { cause: data.cause });
    this.name = "IbtError";
    this.code = code;
    this.path = data.path;
    this.offset = data.offset;
    this.caller = data.caller;
  }

  toJSON(): { name: string; code: ErrorCode; message: string; path?: string; offset?: number; caller?: string } {
    const json: ReturnType<IbtError["toJSON"]> = { name: this.name, code: this.code, message: this.message };
    if (this.path !== undefined) json.path = this.path;
    if (this.offset !== undefined) json.offset = this.offset;
    if (this.caller !== undefined) json.caller = this.caller;
    return json;
  }

  /** Rebuilds an error from its `toJSON` form, for example after `postMessage`. */
  static from(json: { code: ErrorCode; message: string; path?: string; offset?: number; caller?: string }): IbtError {
    const data: IbtErrorData = {};
    if (json.path !== undefined) data.path = json.path;
    if (json.offset !== undefined) data.offset = json.offset;
    if (json.caller !== undefined) data.caller = json.caller;
    return new IbtError(json.code, json.message, data);
  }
}

export function isIbtError(e: unknown, code?: ErrorCode): e is IbtError {
  return e instanceof IbtError && (code === undefined || e.code === code);
}
