export { createFsEventStore, type FsEventStore, type FsEventStoreOptions, type RecoveryEvent } from "./fs-store.ts";
export { type LockOwner, withLock } from "./lock.ts";
