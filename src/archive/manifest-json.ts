/**
 * The manifest's JSON text read piece by piece, so that a manifest of a million changes is never
 * held whole, neither as bytes nor as one string: each element of the top-level `changes` array
 * is parsed alone as soon as it ends, and the rest of the document (its head, the parents and
 * the target, small beside the changes) is parsed whole at the end with that array left empty.
 *
 * A scanner outside strings counts brackets and braces, so it knows when it stands in the top
 * object (depth 1) and in the changes array (depth 2). A string at depth 1 followed by `:` is a
 * key; it is decoded as JSON decodes it, so an escaped spelling of `changes` is still the key.
 * Everything the scanner cuts out is parsed by `JSON.parse`: the elements one by one and the rest
 * at the end, so whatever text JSON refuses is refused here too, as CORRUPT. A document with two
 * `changes` arrays is refused rather than resolved by JSON's last-key-wins.
 */
import { IbtError } from "../errors.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** Bytes decoded into one string at a time. */
const SLICE = 64 * 1024;

function notJson(): never {
  throw new IbtError("CORRUPT", "manifest: not valid UTF-8 JSON");
}

export class ManifestJson {
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });
  #changes: unknown[] = [];
  /** Elements of the changes array parsed so far, taken or not. */
  #count = 0;
  /** The document without the elements of the changes array. */
  #rest = "";
  /** The element of the changes array being read. */
  #element = "";
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** The raw text of a string at depth 1 being read, when one is. */
  #token: string | undefined;
  /** What came last at depth 1, outside whitespace: a string (its raw text), or a key and `:`. */
  #last: { string: string } | { key: string } | undefined;
  #inChanges = false;
  /** The text up to the changes array's `[`, once it has come: whether the array has begun. */
  #headText: string | undefined;

  /** Takes the next bytes of the text (decoded a slice at a time: a member inflated whole comes as one piece). */
  push(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += SLICE) this.#scan(this.#decode(bytes.subarray(at, at + SLICE), true));
  }

  /** The elements of `changes` parsed since the last call, in order, handed over and no longer held. */
  take(): unknown[] {
    const taken = this.#changes;
    this.#changes = [];
    return taken;
  }

  /**
   * The document's keys before its `changes` (those of the whole document where they come
   * first, as this library writes them), once the array has begun: the text so far, closed after
   * an empty array. Undefined before then, or if that text is no JSON object.
   */
  head(): Record<string, unknown> | undefined {
    if (this.#headText === undefined) return undefined;
    try {
      const doc: unknown = JSON.parse(`${this.#headText}]}`);
      return typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The document, its `changes` the elements parsed on the way and not taken. */
  end(): unknown {
    this.#scan(this.#decode(undefined, false));
    if (this.#inString || this.#inChanges || this.#depth !== 0) notJson();
    let doc: unknown;
    try {
      doc = JSON.parse(this.#rest);
    } catch {
      notJson();
    }
    if (this.#headText !== undefined) (doc as { changes: unknown[] }).changes = this.#changes;
    return doc;
  }

  #decode(bytes: Uint8Array | undefined, stream: boolean): string {
    try {
      return this.#decoder.decode(bytes, { stream });
    } catch {
      notJson();
    }
  }

  #scan(text: string): void {
    // Text from `from` on is not yet handed to #rest or #element; a depth-1 string began at
    // `tokenFrom` in this piece (or in an earlier one, when 0 and #token holds its start).
    let from = 0;
    let tokenFrom = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) {
          this.#inString = false;
          if (this.#token !== undefined) {
            this.#last = { string: this.#token + text.slice(tokenFrom, i + 1) };
            this.#token = undefined;
          }
        }
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      const last = this.#last;
      this.#last = undefined;
      if (this.#inChanges && this.#depth === 2 && (c === COMMA || c === CLOSE_BRACKET)) {
        this.#element += text.slice(from, i);
        this.#endElement(c === CLOSE_BRACKET);
        // The array's `]` stays in the rest, after its `[`: the rest holds an empty array.
        from = c === COMMA ? i + 1 : i;
        if (c === CLOSE_BRACKET) {
          this.#inChanges = false;
          this.#depth--;
        }
        continue;
      }
      if (c === QUOTE) {
        this.#inString = true;
        if (this.#depth === 1) {
          this.#token = "";
          tokenFrom = i;
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.#depth++;
        if (c === OPEN_BRACKET && this.#depth === 2 && last && "key" in last && last.key === "changes") {
          if (this.#headText !== undefined) throw new IbtError("CORRUPT", "manifest: changes given twice");
          this.#inChanges = true;
          this.#rest += text.slice(from, i + 1);
          this.#headText = this.#rest;
          from = i + 1;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--this.#depth < 0) notJson();
      } else if (c === COLON && this.#depth === 1 && last && "string" in last) {
        this.#last = { key: keyOf(last.string) };
      }
    }
    if (this.#inChanges) this.#element += text.slice(from);
    else this.#rest += text.slice(from);
    if (this.#token !== undefined) this.#token += text.slice(tokenFrom);
  }

  #endElement(closing: boolean): void {
    const text = this.#element;
    this.#element = "";
    // `[]`: a blank element after a comma was refused when the comma came.
    if (closing && this.#count === 0 && text.trim() === "") return;
    try {
      this.#changes.push(JSON.parse(text));
      this.#count++;
    } catch {
      notJson();
    }
  }
}

/** A key's raw JSON string as its value; a string JSON refuses is no key (the whole parse refuses it). */
function keyOf(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return "";
  }
}
