export const DIR_OPTIONS = [
    { long: "exclude", value: true, repeat: true },
    { long: "json" },
    { long: "index", value: true },
    { long: "no-signatures" },
    { long: "force-read" },
];
export const DIR_USAGE = `       ibt index DIR INDEX [--exclude PATTERN]... [--json]
       ibt diff DIR OLD_INDEX ARCHIVE [--index NEW_INDEX] [--exclude PATTERN]... [--json]
       ibt apply DIR ARCHIVE [--json]

  --exclude PATTERN   .gitignore-style pattern, relative to DIR (repeatable); .gitignore and
                      .ibtignore files in DIR are honoured too
  --index FILE        (diff) also save the new index, for the next diff
  --force-read        (index, diff) read every file, trusting no size/mtime/ctime quick check
  --no-signatures     (index) do not keep librsync signatures (smaller index, no deltas later)
  --json              print a summary as JSON on stdout
`;
//# sourceMappingURL=dir-options.js.map