/**
 * A small XML reader for S3's response documents (ListBucketResult, ListMultipartUploadsResult,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult, Error). DOMParser is absent in
 * Node and workerd, and these documents use a sliver of XML: elements, attributes (read past and
 * dropped), text with the five predefined entities and numeric character references, an XML
 * declaration, comments and processing instructions (skipped). CDATA, DTDs and other entities are
 * refused. A document that is not well-formed by these rules throws `XmlError`, never a
 * TypeError, so a garbled or hostile answer becomes the caller's IO error; nesting is capped so
 * no answer can exhaust the stack or the heap through depth.
 */

export interface XmlElement {
  name: string;
  children: XmlElement[];
  /** The element's own text (entities decoded), with its children's text left out. */
  text: string;
}

export class XmlError extends Error {
  override readonly name = "XmlError";
}

const MAX_DEPTH = 64;
const NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Parses `text` into its root element; throws XmlError if it is not well-formed. */
export function parseXml(text: string): XmlElement {
  let at = 0;
  const fail = (why: string): never => {
    throw new XmlError(`malformed XML at offset ${at}: ${why}`);
  };
  const skipSpace = () => {
    while (at < text.length && " \t\r\n".includes(text[at]!)) at++;
  };
  const readName = (): string => {
    NAME.lastIndex = at;
    const m = NAME.exec(text);
    if (!m) return fail("a name was expected");
    at += m[0].length;
    return m[0];
  };
  // Declarations, comments and processing instructions, where the grammar allows them.
  const skipMisc = (): boolean => {
    if (text.startsWith("<?", at)) {
      const end = text.indexOf("?>", at + 2);
      if (end < 0) fail("unterminated processing instruction");
      at = end + 2;
      return true;
    }
    if (text.startsWith("<!--", at)) {
      const end = text.indexOf("-->", at + 4);
      if (end < 0) fail("unterminated comment");
      at = end + 3;
      return true;
    }
    return false;
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;&<]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(";")) fail("an entity reference without ';'");
      if (ref in ENTITIES) return ENTITIES[ref]!;
      const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
      if (!m) return fail(`unknown entity &${ref};`);
      const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10);
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(`bad character reference &${ref};`);
      return String.fromCodePoint(code);
    });
  const skipAttributes = () => {
    for (;;) {
      skipSpace();
      const c = text[at];
      if (c === "/" || c === ">" || c === undefined) return;
      readName();
      skipSpace();
      if (text[at] !== "=") fail("'=' expected after an attribute name");
      at++;
      skipSpace();
      const quote = text[at];
      if (quote !== '"' && quote !== "'") return fail("a quoted attribute value was expected");
      const end = text.indexOf(quote, at + 1);
      if (end < 0) fail("unterminated attribute value");
      decode(text.slice(at + 1, end));
      at = end + 1;
    }
  };

  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  skipSpace();
  while (skipMisc()) skipSpace();
  if (text[at] !== "<") fail("the document does not start with an element");
  for (;;) {
    if (at >= text.length) fail("the document ends inside an element");
    if (text.startsWith("<!--", at) || text.startsWith("<?", at)) {
      skipMisc();
      continue;
    }
    if (text.startsWith("<!", at)) fail("CDATA, DTDs and declarations are not supported");
    if (text.startsWith("</", at)) {
      at += 2;
      const name = readName();
      skipSpace();
      if (text[at] !== ">") fail("'>' expected");
      at++;
      const open = stack.pop();
      if (!open || open.name !== name) fail(`</${name}> does not close the open element`);
      if (stack.length === 0) break;
      continue;
    }
    if (text[at] === "<") {
      at++;
      const element: XmlElement = { name: readName(), children: [], text: "" };
      skipAttributes();
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else root = element;
      if (text.startsWith("/>", at)) {
        at += 2;
        if (stack.length === 0) break;
        continue;
      }
      if (text[at] !== ">") fail("'>' expected");
      at++;
      if (stack.length >= MAX_DEPTH) fail("elements nested too deeply");
      stack.push(element);
      continue;
    }
    const end = text.indexOf("<", at);
    if (end < 0) fail("the document ends inside an element");
    const raw = text.slice(at, end);
    if (raw.includes(">") && raw.includes("]]>")) fail("']]>' in text");
    stack[stack.length - 1]!.text += decode(raw);
    at = end;
  }
  skipSpace();
  while (skipMisc()) skipSpace();
  if (at < text.length) fail("content after the root element");
  return root!;
}

/** The first child element called `name`, if any. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** The text of the first child called `name`, or undefined where there is none. */
export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text;
}

/** Every child called `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}
