/**
 * `ibt key list|add|remove|passwd`: the passwords of an encrypted repository. Each password is
 * one key object holding the repository's master key sealed under it (src/crypto/keys.ts), so
 * adding or removing one rewrites no data. The repository is opened with a current password
 * (the usual sources); a new one comes from `--new-password-file` or `IBT_NEW_PASSWORD`, or is
 * typed twice at a prompt. `passwd` adds a key for the new password and removes the one that
 * opened the repository. A new key's Argon2id cost is fitted to a time or pinned, as at init
 * (`--kdf-time`, `--kdf-memory`, `--kdf-passes`; repo-open.ts). A repository without a password
 * has no keys, and says so.
 */
import { IbtError } from "../errors.js";
import { argon2id } from "../crypto/argon2.js";
import { EncryptedStore } from "../crypto/encrypted-store.js";
import type { KeyInfo } from "../crypto/keys.js";
import { readNewPassword } from "../node/password.js";
import { flag, value, type Parsed } from "./args.js";
import { repositoryArgs } from "./repo-location.js";
import { existingStore, keyOptions, newKeyParams, openEncrypted } from "./repo-open.js";

const SUBCOMMANDS = ["list", "add", "remove", "passwd"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const USAGES: Record<Subcommand, string> = {
  list: "key list REPO",
  add: "key add REPO",
  remove: "key remove REPO ID",
  passwd: "key passwd REPO",
};

export async function keyCommand(p: Parsed): Promise<void> {
  const sub = p.positionals.shift();
  if (sub === undefined || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new IbtError("BAD_ARGUMENT", `usage: ibt key list|add|remove|passwd REPO (see ibt key --help)`);
  }
  const { location, args } = repositoryArgs(p, USAGES[sub as Subcommand]);
  // Checked before any password is asked for.
  const keyParams = sub === "add" || sub === "passwd" ? newKeyParams(p) : undefined;
  const inner = await existingStore(location);
  if (!(await EncryptedStore.isEncrypted(inner))) {
    throw new IbtError("UNSUPPORTED", `${location} holds no encrypted repository, so it has no keys (a repository made with --insecure-no-password stays without a password)`);
  }
  const store = await openEncrypted(p, location, inner);
  switch (sub as Subcommand) {
    case "list":
      return listKeys(p, store);
    case "add": {
      const password = await readNewPassword({ file: value(p, "new-password-file"), prompt: "enter the new password: " });
      const key = await store.addKey(password, argon2id, keyParams, keyOptions());
      return print(p, { command: "key add", ...key }, `ibt: added key ${key.id} (${describeKdf(key)})`);
    }
    case "remove": {
      const id = await keyIdOf(store, args[0]!);
      await store.removeKey(id);
      return print(p, { command: "key remove", id }, `ibt: removed key ${id}`);
    }
    case "passwd": {
      const old = store.keyId;
      const password = await readNewPassword({ file: value(p, "new-password-file"), prompt: "enter the new password: " });
      await store.changePassword(password, argon2id, keyParams, keyOptions());
      return print(p, { command: "key passwd", removed: old, id: store.keyId }, `ibt: changed the password: added key ${store.keyId}, removed key ${old}`);
    }
  }
}

async function listKeys(p: Parsed, store: EncryptedStore): Promise<void> {
  const { keys, damaged } = await store.listKeys();
  if (flag(p, "json")) {
    process.stdout.write(JSON.stringify({ keys: keys.map((k) => ({ ...k, current: k.id === store.keyId })), damaged }) + "\n");
    return;
  }
  const rows = [[" ", "ID", "CREATED", "USER", "HOST", "KDF"]];
  for (const k of keys) rows.push([k.id === store.keyId ? "*" : " ", k.id, k.created.replace(/\.\d+Z$/, "Z"), k.user ?? "", k.host ?? "", describeKdf(k)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
  const lines = damaged.map((d) => `damaged key object keys/${d.id}: ${d.problem}`);
  process.stdout.write(`${table}\n${[...lines, `${keys.length} keys (* opened this time)`].join("\n")}\n`);
}

function describeKdf(k: KeyInfo): string {
  return `${k.kdf} ${k.params.memoryKiB >= 1024 ? `${k.params.memoryKiB / 1024} MiB` : `${k.params.memoryKiB} KiB`}, ${k.params.passes} pass${k.params.passes === 1 ? "" : "es"}`;
}

/** The key id for `given`: a whole id, or a prefix of exactly one. */
async function keyIdOf(store: EncryptedStore, given: string): Promise<string> {
  const { keys, damaged } = await store.listKeys();
  const ids = [...keys.map((k) => k.id), ...damaged.map((d) => d.id)];
  if (ids.includes(given)) return given;
  const matches = ids.filter((id) => id.startsWith(given));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new IbtError("NOT_FOUND", `no key ${given} (ibt key list shows them)`);
  throw new IbtError("BAD_ARGUMENT", `${given} is a prefix of ${matches.length} keys; give more of it`);
}

function print(p: Parsed, json: unknown, text: string): void {
  if (flag(p, "json")) process.stdout.write(JSON.stringify(json) + "\n");
  else process.stderr.write(text + "\n");
}
