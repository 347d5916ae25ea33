// The XML reader on documents shaped like S3's answers, and on garbage: garbage must throw
// XmlError (which the store turns into IO), never a TypeError or a RangeError.
import { test } from "node:test";
import assert from "node:assert/strict";
import { child, childrenNamed, childText, parseXml, XmlError } from "../../src/store/s3/xml.js";
import { errorCodeOf } from "../../src/store/s3/errors.js";

const listing = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>repo/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>repo/a&amp;b&lt;c&gt;</Key><LastModified>2024-05-17T12:00:00.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>repo/données/日本.bin</Key><Size>0</Size></Contents>
  <Contents><Key>repo/&#x1F600;&#65;&apos;</Key><Size>3</Size></Contents>
  <!-- a comment -->
</ListBucketResult>`;

test("XML: a ListBucketResult with entities, unicode and character references", () => {
  const doc = parseXml(listing);
  assert.equal(doc.name, "ListBucketResult");
  assert.equal(childText(doc, "IsTruncated"), "true");
  assert.equal(childText(doc, "NextContinuationToken"), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  const contents = childrenNamed(doc, "Contents");
  assert.deepEqual(
    contents.map((c) => [childText(c, "Key"), childText(c, "Size")]),
    [["repo/a&b<c>", "12"], ["repo/données/日本.bin", "0"], ["repo/😀A'", "3"]],
  );
  assert.equal(childText(contents[0]!, "ETag"), '"9b2cf535f27731c974343645a3985328"');
});

test("XML: InitiateMultipartUploadResult, CompleteMultipartUploadResult, ListMultipartUploadsResult", () => {
  const init = parseXml(`<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE.-_</UploadId></InitiateMultipartUploadResult>`);
  assert.equal(childText(init, "UploadId"), "VXBsb2FkIElE.-_");
  const done = parseXml(`<CompleteMultipartUploadResult><Location>http://h/b/k</Location><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>`);
  assert.equal(childText(done, "ETag"), '"3858f62230ac3c915f300c664312c11f-9"');
  const uploads = parseXml(
    `<ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>false</IsTruncated><Upload><Key>p/x</Key><UploadId>id1</UploadId><Initiator><ID>a</ID></Initiator><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload><Upload><Key>p/y</Key><UploadId>id2</UploadId><Initiated>2010-11-10T20:49:33.000Z</Initiated></Upload></ListMultipartUploadsResult>`,
  );
  assert.deepEqual(childrenNamed(uploads, "Upload").map((u) => childText(u, "UploadId")), ["id1", "id2"]);
  assert.equal(childText(child(childrenNamed(uploads, "Upload")[0]!, "Initiator")!, "ID"), "a");
});

test("XML: an Error document gives its code, and only a plain identifier", () => {
  const error = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message><StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign><SignatureProvided>abc</SignatureProvided><RequestId>4442587FB7D0A2F9</RequestId></Error>`;
  assert.equal(errorCodeOf(new TextEncoder().encode(error)), "SignatureDoesNotMatch");
  assert.equal(errorCodeOf(new TextEncoder().encode("<Error><Code>a b &lt;script&gt;</Code></Error>")), undefined);
  assert.equal(errorCodeOf(new TextEncoder().encode("<html>oops</html>")), undefined);
  assert.equal(errorCodeOf(new Uint8Array(0)), undefined);
});

test("XML: self-closing elements, attributes and empty text", () => {
  const doc = parseXml(`<A x="1" y='2&amp;'><B/><C></C><D  z = "q" /></A>`);
  assert.deepEqual(doc.children.map((c) => [c.name, c.text]), [["B", ""], ["C", ""], ["D", ""]]);
});

const garbage: string[] = [
  "",
  "   ",
  "not xml",
  "<",
  "<A",
  "<A>",
  "<A><B></A></B>",
  "<A></B>",
  "<A>text",
  "<A>&bogus;</A>",
  "<A>&amp</A>",
  "<A>&#0;</A>",
  "<A>&#xD800;</A>",
  "<A>&#x110000;</A>",
  "<A>&#99999999999;</A>",
  "<A><![CDATA[x]]></A>",
  "<!DOCTYPE A [<!ENTITY e 'x'>]><A>&e;</A>",
  "<A></A><B></B>",
  "<A></A>trailing",
  "<A x=1></A>",
  "<A x='1></A>",
  "<1A></1A>",
  "<A><!-- unterminated </A>",
  "<?xml version='1.0'",
  "<A>" + "<B>".repeat(10_000) + "</B>".repeat(10_000) + "</A>",
  "\u0000\u0001\u0002",
  "<A>\uFFFF</A",
];

test("XML: garbage throws XmlError, never a TypeError", () => {
  for (const text of garbage) {
    assert.throws(() => parseXml(text), XmlError, JSON.stringify(text.slice(0, 40)));
  }
});

test("XML: random bytes decoded as text never throw anything but XmlError", () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = "<>/&;#x=\"' ABab01?!-[]\n";
  for (let i = 0; i < 3000; i++) {
    let text = "";
    const n = Math.floor(rand() * 40);
    for (let j = 0; j < n; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
    try {
      parseXml(text);
    } catch (e) {
      assert.ok(e instanceof XmlError, `${JSON.stringify(text)}: ${String(e)}`);
    }
  }
});
