/**
 * The XML the S3 test server speaks: response documents out, the two request bodies S3 takes as
 * XML in (CompleteMultipartUpload's part list and DeleteObjects' key list), and the error type
 * every handler throws.
 *
 * Output is built from nested `element` strings, each text escaped once where it is placed, so
 * a key with `<` or `&` in it cannot change a document's shape. Input is read by a small parser
 * that knows elements and text only (no DTDs, no processing instructions beyond the
 * declaration); anything else is `MalformedXML`, which is what S3 answers for a body it cannot
 * read. Both sides are deliberately smaller than XML: S3's documents never need more.
 */

export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

/** An S3 error answer: HTTP status, S3's error code, and extra fields (`Key`, `BucketName`…). */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function escapeText(text: string): string {
  const named: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
  return text.replace(/[&<>"']/g, (c) => named[c]!);
}

/** `<name>text</name>` with the text escaped, or `<name>…children…</name>` for a list. */
export function element(name: string, content: string | number | boolean | readonly string[]): string {
  const inner = Array.isArray(content) ? content.join("") : escapeText(String(content));
  return `<${name}>${inner}</${name}>`;
}

/** A whole response document with S3's namespace on its root. */
export function xmlDocument(root: string, children: readonly string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${children.join("")}</${root}>`;
}

/** S3's error document; S3 puts no namespace on `<Error>`. */
export function errorDocument(code: string, message: string, fields: Record<string, string>, requestId: string): string {
  const parts = [element("Code", code), element("Message", message)];
  for (const [name, value] of Object.entries(fields)) parts.push(element(name, value));
  parts.push(element("RequestId", requestId));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element("Error", parts)}`;
}

/** A parsed element: its local name (any prefix dropped), child elements, and direct text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

function malformed(detail: string): S3Error {
  return new S3Error(
    400,
    "MalformedXML",
    `The XML you provided was not well-formed or did not validate against our published schema (${detail})`,
  );
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);|&/g, (whole, entity: string | undefined) => {
    if (entity === undefined) throw malformed("a bare '&'");
    if (entity.startsWith("#x")) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[entity] ?? whole;
  });
}

/** Parses a request body into its root element; throws `MalformedXML` on anything else. */
export function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (detail: string): never => {
    throw malformed(detail);
  };
  const skipPast = (token: string, what: string): number => {
    const found = source.indexOf(token, at);
    return found < 0 ? fail(`an unclosed ${what}`) : found + token.length;
  };
  const skipMisc = () => {
    for (;;) {
      const rest = source.slice(at);
      const space = /^\s+/.exec(rest);
      if (space) at += space[0].length;
      else if (rest.startsWith("<?xml")) at = skipPast("?>", "declaration");
      else if (rest.startsWith("<!--")) at = skipPast("-->", "comment");
      else return;
    }
  };
  const parseElement = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(source.slice(at));
    if (!open) return fail(`no element at offset ${at}`);
    at += open[0].length;
    const node: XmlElement = { name: open[1]!.replace(/^.*:/, ""), children: [], text: "" };
    if (open[3] === "/") return node;
    for (;;) {
      const lt = source.indexOf("<", at);
      if (lt < 0) return fail(`<${open[1]}> is not closed`);
      node.text += decodeEntities(source.slice(at, lt));
      at = lt;
      if (source.startsWith("</", at)) {
        const close = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(source.slice(at));
        if (!close || close[1] !== open[1]) return fail(`<${open[1]}> closed by something else`);
        at += close[0].length;
        return node;
      }
      if (source.startsWith("<!--", at)) {
        at = skipPast("-->", "comment");
        continue;
      }
      node.children.push(parseElement());
    }
  };
  skipMisc();
  const root = parseElement();
  skipMisc();
  if (at !== source.length) fail("content after the root element");
  return root;
}

/** The text of the only child called `name` (untrimmed: keys may hold spaces), or undefined. */
export function childText(parent: XmlElement, name: string): string | undefined {
  const found = parent.children.filter((child) => child.name === name);
  if (found.length > 1) throw malformed(`more than one <${name}>`);
  return found[0]?.text;
}
