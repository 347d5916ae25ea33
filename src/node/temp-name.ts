/**
 * The name of a temporary file written beside `name` and then renamed onto it: a dot-name ending
 * in ".ibt-tmp-" and 16 random base-36 characters, which no real entry is expected to have.
 * Every caller creates it exclusively ("wx"), so a name already taken fails the write rather than
 * reusing the file: it need not be unpredictable, only unlikely to collide. Math.random gives that
 * without loading Node's crypto module, a noticeable part of a short command's start-up.
 */
export function tempName(name: string): string {
  const random = (Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 10)).padEnd(16, "0");
  // Keep the temporary name within NAME_MAX (255 bytes) however long the real one is.
  const stem = new TextEncoder().encode(name).length <= 200 ? name : "";
  return `.${stem}.ibt-tmp-${random}`;
}
