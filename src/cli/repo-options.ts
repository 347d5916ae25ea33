/**
 * Options, usage and per-command help of the repository commands, apart from their
 * implementation (repo.ts, key.ts), which is loaded only when one of them runs, so that rdiff's
 * commands start as fast as before.
 */
import type { OptionSpec } from "./args.js";

export const REPO_OPTIONS: OptionSpec[] = [
  { short: "r", long: "repo", value: true },
  { long: "password-file", value: true },
  { long: "new-password-file", value: true },
  { long: "insecure-no-password" },
  { long: "kdf-time", value: true },
  { long: "kdf-memory", value: true },
  { long: "kdf-passes", value: true },
  { long: "full" },
  { long: "dry-run" },
  { long: "compression", value: true },
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

export const REPO_COMMANDS = ["init", "backup", "snapshots", "restore", "verify", "forget", "unlock", "key"] as const;

/** What every repository command says about naming the repository and giving its password. */
const REPOSITORY_NOTE = `
REPO is a folder, or an S3 bucket and prefix: s3:https://host/bucket/prefix (s3:http://… for a
local server, s3:host/bucket/prefix for https). Leave it out to use -r/--repo REPO or
IBT_REPOSITORY. S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN, or from the profile AWS_PROFILE (default "default") of the credentials file
AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); the region from AWS_REGION or
AWS_DEFAULT_REGION (default us-east-1).

  -r, --repo REPO       the repository, when it is not given as an argument
  --password-file FILE  read the password from FILE's first line
  --json                print the result as JSON on stdout, and progress as JSON lines on
                        stderr (IBT_PROGRESS=none turns them off)

An encrypted repository's password is taken, in this order, from --password-file,
IBT_PASSWORD_FILE, the first line IBT_PASSWORD_COMMAND prints (run by the shell), IBT_PASSWORD,
or asked for without echo when stdin is a terminal.
`;

/** The options that set a new key's Argon2id cost (init, a backup that makes a repository, key add and passwd). */
const KDF_NOTE = `
  --kdf-time MS       fit the new key's Argon2id cost to MS milliseconds on this machine
                      (default 500), never below 64 MiB and 3 passes
  --kdf-memory MIB    pin the cost instead: MIB of memory (at least 64; 64 if only
  --kdf-passes N      --kdf-passes is given) and N passes (at least 3; 3 if only --kdf-memory is)`;

export const REPO_HELP: Record<(typeof REPO_COMMANDS)[number], string> = {
  init: `usage: ibt init REPO [--insecure-no-password] [--kdf-time MS | --kdf-memory MIB --kdf-passes N] [--json]

Creates an empty repository, encrypted under a password (asked for twice at a terminal): every
object is encrypted and authenticated, and the storage holds no file name, size or time in the
clear. Without the password nothing in it can be read, so keep it safe; ibt key add gives a
repository more than one.

  --insecure-no-password  create a repository without encryption, readable by anyone who can
                          read its storage${KDF_NOTE}
${REPOSITORY_NOTE}`,
  backup: `usage: ibt backup DIR REPO [--full] [--exclude PATTERN]... [--compression MODE] [--dry-run] [--source LABEL] [--insecure-no-password] [--json]

Backs up DIR as a new snapshot in the repository REPO. Where REPO holds no repository yet, one
is created as ibt init does: encrypted under a password, or without one only with
--insecure-no-password. The first snapshot is full; later ones store only what changed since
the latest, until restoring the chain would read more than twice a full's bytes, when a new
full starts.

  --full              store every file whole, starting a new chain
  --compression MODE  how file data is compressed: auto (the default: zstd where this
                      runtime has it, else deflate; storing what does not shrink), max
                      (smaller, slower), fastest (larger, faster), deflate (no zstd, so
                      any unzip extracts the archives) or off (stored as it is); default
                      IBT_COMPRESSION, else auto
  --exclude PATTERN   .gitignore-style pattern, relative to DIR (repeatable); .gitignore and
                      .ibtignore files in DIR are honoured too
  --dry-run           report what would be stored; write nothing
  --source LABEL      label stored with the snapshot (default: DIR's name)
  --insecure-no-password  if a new repository is made, make it without encryption
  --kdf-time, --kdf-memory, --kdf-passes  if a new repository is made: as for ibt init
${REPOSITORY_NOTE}`,
  snapshots: `usage: ibt snapshots REPO [--json]

Lists the repository's complete snapshots, oldest first.
${REPOSITORY_NOTE}`,
  restore: `usage: ibt restore REPO TARGET [--snapshot ID] [--path P]... [--delete] [--json]

Restores a snapshot (default: the latest) into TARGET, created if missing. Only files that
differ are written; on any error nothing in TARGET is changed.

  --snapshot ID       the snapshot: an id, a unique prefix of one, or "latest"
  --path P            restore only P (a file, or a directory with everything in it); repeatable
  --delete            remove what TARGET holds and the snapshot does not (whole-tree restores)
${REPOSITORY_NOTE}`,
  verify: `usage: ibt verify REPO [--read-data] [--json]

Checks that every snapshot's chain is complete and its files are there; with --read-data, reads
every stored byte and checks it against the hashes recorded when it was written (and, in an
encrypted repository, authenticates every byte). Exits 1 and names what is damaged if anything is.
${REPOSITORY_NOTE}`,
  forget: `usage: ibt forget REPO [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--dry-run] [--json]

Removes the snapshots the policy does not keep. Snapshots that a kept one depends on (its chain
back to a full) are kept too.
${REPOSITORY_NOTE}`,
  unlock: `usage: ibt unlock REPO [--force] [--json]

Clears a lock left by a backup or forget that no longer runs. A lock held by a process still
running on this host is left in place unless --force.
${REPOSITORY_NOTE}`,
  key: `usage: ibt key list REPO [--json]
       ibt key add REPO [--new-password-file FILE] [--kdf-time MS | --kdf-memory MIB --kdf-passes N] [--json]
       ibt key remove REPO ID [--json]
       ibt key passwd REPO [--new-password-file FILE] [--kdf-time MS | --kdf-memory MIB --kdf-passes N] [--json]

Manages the passwords of an encrypted repository. Each password is a key object that unlocks the
same master key, so adding or removing one rewrites no data. The repository is opened with a
current password; a new one is read from --new-password-file FILE, or IBT_NEW_PASSWORD, or asked
for twice at a terminal.

  list     the keys: id, when and by whom made, key derivation; * marks the one that opened
  add      add a key for a new password
  remove   remove key ID (an id or a unique prefix of one); not the key in use nor the last
  passwd   change the password in use: add a key for the new one, remove the one in use
${KDF_NOTE}
${REPOSITORY_NOTE}`,
};

export const REPO_USAGE = `       ibt init REPO [--insecure-no-password] [--json]
       ibt backup DIR REPO [--full] [--exclude PATTERN]... [--compression MODE] [--dry-run] [--json]
       ibt snapshots REPO [--json]
       ibt restore REPO TARGET [--snapshot ID] [--path P]... [--delete] [--json]
       ibt verify REPO [--read-data] [--json]
       ibt forget REPO --keep-last N [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--dry-run] [--json]
       ibt unlock REPO [--force] [--json]
       ibt key list|add|remove|passwd REPO [ID] [--json]
       ibt COMMAND --help   for one command's options

REPO is a folder or s3:https://host/bucket/prefix; leave it out to use -r REPO or IBT_REPOSITORY.
New repositories are encrypted: the password comes from --password-file, IBT_PASSWORD_FILE,
IBT_PASSWORD_COMMAND, IBT_PASSWORD, or a prompt.
`;
