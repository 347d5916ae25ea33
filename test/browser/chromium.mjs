// Where the browser suite finds Chromium: IBT_CHROMIUM if set (and then only there), else
// Debian's /usr/bin/chromium, else `chromium-browser` or `chromium` on the PATH. Never a
// downloaded browser: playwright-core is only the driver. Shared by test/browser/run.mjs and
// test/run-all.mjs, which must agree on whether the suite can run.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

const runnable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** `{ path }` of a Chromium to launch, or `{ missing }` saying why there is none. */
export function findChromium(env = process.env) {
  if (env.IBT_CHROMIUM) {
    return runnable(env.IBT_CHROMIUM) ? { path: env.IBT_CHROMIUM } : { missing: `IBT_CHROMIUM=${env.IBT_CHROMIUM} is not an executable file` };
  }
  if (runnable("/usr/bin/chromium")) return { path: "/usr/bin/chromium" };
  for (const name of ["chromium-browser", "chromium"]) {
    for (const dir of (env.PATH ?? "").split(delimiter)) {
      if (dir && runnable(join(dir, name))) return { path: join(dir, name) };
    }
  }
  return { missing: "no Chromium found (/usr/bin/chromium, chromium-browser or chromium on PATH; set IBT_CHROMIUM, or apt-get install chromium)" };
}

/** The one line printed when the suite cannot run; IBT_REQUIRE_BROWSER=1 turns it into a failure. */
export function skipLine(missing, env = process.env) {
  return env.IBT_REQUIRE_BROWSER === "1"
    ? `✖ browser suite FAILED: ${missing}, and IBT_REQUIRE_BROWSER=1 requires it`
    : `﹣ browser suite SKIPPED: ${missing}`;
}
