import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPath, isIbtError } from "../../src/index.js";

test("checkPath accepts safe relative paths, ASCII or not", () => {
  for (const p of ["", "a", "a/b/c", ".hidden", "a/.b", "...", "..a", "a..", "a b/c d", "é", "日本/ファイル.txt", "ab:c", "1:x", "x/C:y"]) {
    assert.equal(checkPath(p), p, p);
  }
});

test("checkPath refuses every unsafe shape with UNSAFE_PATH and says why", () => {
  const cases: [string, RegExp][] = [
    ["/a", /absolute/],
    ["/", /absolute/],
    ["a/", /empty segment/],
    ["a//b", /empty segment/],
    [".", /"\." segment/],
    ["..", /"\.\." segment/],
    ["a/./b", /"\." segment/],
    ["a/..", /"\.\." segment/],
    ["../x", /"\.\." segment/],
    ["a\\b", /backslash/],
    ["a\0b", /NUL/],
    ["C:x", /drive letter/],
    ["c:/x", /drive letter/],
    ["a:b", /drive letter/],
    ["e\u0301", /NFC/],
    ["dir/e\u0301/f", /NFC/],
  ];
  for (const [p, why] of cases) {
    assert.throws(() => checkPath(p), (e) => isIbtError(e, "UNSAFE_PATH") && why.test(e.message), JSON.stringify(p));
  }
});
