export const REPO_OPTIONS = [
    { long: "full" },
    { long: "dry-run" },
    { long: "source", value: true },
    { long: "snapshot", value: true },
    { long: "path", value: true, repeat: true },
    { long: "delete" },
    { long: "read-data" },
    { long: "keep-last", value: true },
    { long: "keep-daily", value: true },
    { long: "keep-weekly", value: true },
    { long: "keep-monthly", value: true },
];
export const REPO_COMMANDS = ["backup", "snapshots", "restore", "verify", "forget", "unlock"];
export const REPO_HELP = {
    backup: `usage: ibt backup DIR REPO [--full] [--exclude PATTERN]... [--dry-run] [--source LABEL] [--json]

Backs up DIR as a new snapshot in the repository REPO (created if missing). The first snapshot
is full; later ones store only what changed since the latest, until the chain grows past half a
full's size, when a new full starts.

  --full              store every file whole, starting a new chain
  --exclude PATTERN   .gitignore-style pattern, relative to DIR (repeatable); .gitignore and
                      .ibtignore files in DIR are honoured too
  --dry-run           report what would be stored; write nothing
  --source LABEL      label stored with the snapshot (default: DIR's name)
  --json              print the snapshot as JSON on stdout
`,
    snapshots: `usage: ibt snapshots REPO [--json]

Lists the repository's complete snapshots, oldest first.
`,
    restore: `usage: ibt restore REPO TARGET [--snapshot ID] [--path P]... [--delete] [--json]

Restores a snapshot (default: the latest) into TARGET, created if missing. Only files that
differ are written; on any error nothing in TARGET is changed.

  --snapshot ID       the snapshot: an id, a unique prefix of one, or "latest"
  --path P            restore only P (a file, or a directory with everything in it); repeatable
  --delete            remove what TARGET holds and the snapshot does not (whole-tree restores)
  --json              print a summary as JSON on stdout
`,
    verify: `usage: ibt verify REPO [--read-data] [--json]

Checks that every snapshot's chain is complete and its files are there; with --read-data, reads
every stored byte and checks it against the hashes recorded when it was written. Exits 1 and
names what is damaged if anything is.
`,
    forget: `usage: ibt forget REPO [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--dry-run] [--json]

Removes the snapshots the policy does not keep. Snapshots that a kept one depends on (its chain
back to a full) are kept too.
`,
    unlock: `usage: ibt unlock REPO [--force] [--json]

Clears a lock left by a backup or forget that no longer runs. A lock held by a process still
running on this host is left in place unless --force.
`,
};
export const REPO_USAGE = `       ibt backup DIR REPO [--full] [--exclude PATTERN]... [--dry-run] [--json]
       ibt snapshots REPO [--json]
       ibt restore REPO TARGET [--snapshot ID] [--path P]... [--delete] [--json]
       ibt verify REPO [--read-data] [--json]
       ibt forget REPO --keep-last N [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--dry-run] [--json]
       ibt unlock REPO [--force] [--json]
       ibt COMMAND --help   for one command's options
`;
//# sourceMappingURL=repo-options.js.map