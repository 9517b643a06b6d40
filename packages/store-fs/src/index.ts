export { type FileHandleOps, type FileOps, nodeFileOps, type ProcessIdentity, thisProcess } from "./file-ops.ts";
export { createFsEventStore, type FsEventStore, type FsEventStoreOptions, type RecoveryEvent, type TailDamage } from "./fs-store.ts";
export { LOCK_FILE, type LockOwner, withLock } from "./lock.ts";
