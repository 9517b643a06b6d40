/** A record as the store keeps it: `line` is stored verbatim; `seq` and `hash` are its index. */
export interface SealedRecord {
  readonly seq: number;
  readonly hash: string;
  readonly line: string;
}

/** A stream's last committed position. */
export interface StreamHead {
  /** 1-based, gapless within a stream. */
  readonly seq: number;
  /** Lowercase hex SHA-256 of that record's canonical bytes. */
  readonly hash: string;
}

/** One record as a store returns it: `line` exactly as appended, `seq` the position the store holds it at. */
export interface StoredRecord {
  readonly seq: number;
  readonly line: string;
  /** Where the store holds it (`<segment file>:<byte offset>`, `<object key>#<line>`), for reports. */
  readonly location?: string;
}

/** An all-or-nothing conditional append. */
export interface AppendRequest {
  readonly streamId: string;
  /** The head seq the caller built on: 0 means the stream must not exist yet. */
  readonly expectedSeq: number;
  /** Consecutive records, the first at `expectedSeq + 1`. */
  readonly records: readonly [SealedRecord, ...SealedRecord[]];
}

/**
 * A snapshot of a stream's fold as the core wrote it: opaque bytes for the stream up to `seq`.
 * A cache, never an authority: the core checks it against the log before it uses it.
 */
export interface StoredSnapshot {
  readonly seq: number;
  readonly body: string;
}

/** Where to start reading. */
export interface ReadOptions {
  /** First seq to yield; defaults to 1. */
  readonly fromSeq?: number;
  /**
   * Read the records themselves, never a copy a store keeps to read faster (the S3 store's
   * compacted segments): what verification asks, so an edit to any stored record is seen. A store
   * that keeps no such copy ignores it.
   */
  readonly authoritative?: boolean;
}

/**
 * Storage port for hash-chained event streams. Every member is required.
 *
 * Adapters persist `SealedRecord.line` byte for byte and never parse, re-serialize or hash it;
 * sealing, verification and folding live in the core, so a log verifies the same way in every
 * store. `@opsledger/store-contract` states these rules as tests and every store runs all of it.
 */
export interface EventStore {
  /**
   * Appends every record or none, only if the stream's head seq equals `expectedSeq` (0 for a
   * new stream), and resolves once the records are durable in this store.
   * @throws {StreamConflictError} when the head is not `expectedSeq` (another writer got there first).
   * @throws {InvalidStreamIdError} for an id that is empty, too long or could escape the store's namespace.
   * @throws {InvalidAppendError} when the records are not consecutive from `expectedSeq + 1`.
   * @throws {StoreUnavailableError} on any other storage failure; nothing is partially visible.
   * @throws {StoreClosedError} after `close()`.
   */
  append(request: AppendRequest): Promise<StreamHead>;

  /** Records in ascending seq from `fromSeq`; an unknown stream yields nothing. Pages stay inside the adapter. */
  read(streamId: string, options?: ReadOptions): AsyncIterable<StoredRecord>;

  /** The current head, or `undefined` for an unknown stream. */
  head(streamId: string): Promise<StreamHead | undefined>;

  /**
   * Saves a snapshot of a stream's fold, byte for byte, replacing one at the same seq; a reader
   * sees the whole body or none of it. The store keeps at least the two newest of a stream and
   * may drop older ones. Snapshots are not records: they never show in `read`, `head` or `listStreams`.
   * @throws {InvalidStreamIdError} for an id `append` would refuse.
   * @throws {StoreUnavailableError} on a storage failure (the caller goes on without the snapshot).
   * @throws {StoreClosedError} after `close()`.
   */
  putSnapshot(streamId: string, snapshot: StoredSnapshot): Promise<void>;

  /** A stream's snapshots, newest (highest seq) first, bodies verbatim; none for an unknown stream. */
  snapshots(streamId: string): AsyncIterable<StoredSnapshot>;

  /** Every stream id exactly once, in ascending code-unit order. */
  listStreams(): AsyncIterable<string>;

  /** Releases resources. Idempotent; every later call rejects with `StoreClosedError`. */
  close(): Promise<void>;
}
