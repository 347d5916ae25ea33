export { Repository } from "./repository.js";
export type { Snapshot } from "./snapshot.js";
export type { BackupOptions } from "./backup.js";
export type { RestoreOptions, RestoreResult } from "./restore.js";
export type { VerifyOptions, VerifyReport, VerifyProblem } from "./verify.js";
export type { ForgetPolicy, ForgetResult } from "./forget.js";
export type { RepositoryOptions, Progress } from "./options.js";
export { LOCK_REFRESH_MS, LOCK_STALE_MS, type LockOwner, type LockOptions, type LockTiming } from "./lock.js";
export type { Compression } from "./backup-write.js";
