// `@opsledger/core/store`: what a store adapter needs and nothing of the decider: the port, its
// errors, the record helpers (checking an append, reading a stored line's position without
// trusting it) and the key layout every store shares.

export { openSealedLine, sealedLineHash, sealedLineHead } from "../chain/seal.ts";
export {
  InvalidAppendError,
  InvalidStreamIdError,
  InvalidValueError,
  isOpsledgerError,
  OpsledgerError,
  StoreClosedError,
  StoreIntegrityError,
  StoreUnavailableError,
  StreamConflictError,
} from "../errors.ts";
export { checkAppendRequest } from "./append-request.ts";
export type {
  AppendRequest,
  EventStore,
  ReadOptions,
  SealedRecord,
  StoredRecord,
  StoredSnapshot,
  StreamHead,
} from "./event-store.ts";
export { RECORDS_SUFFIX, rangeName, rangeOfExactName, SEQ_DIGITS, SNAPSHOT_SUFFIX, seqName, seqOfExactName, seqOfName } from "./keys.ts";
export { createMemoryEventStore } from "./memory-store.ts";
export { MAX_STREAM_ID_LENGTH, parseStreamId } from "./stream-id.ts";
