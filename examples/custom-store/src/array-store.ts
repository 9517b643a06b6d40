// A complete EventStore in ~80 lines, written from the port's doc comments: streams are arrays of
// lines. Replace the arrays with your database's rows and keep the rules; the contract suite
// (test/array-store.contract.test.ts) tells you when you broke one.
import {
  type AppendRequest,
  checkAppendRequest,
  type EventStore,
  parseStreamId,
  type ReadOptions,
  StoreClosedError,
  type StoredRecord,
  type StoredSnapshot,
  StreamConflictError,
  type StreamHead,
} from "@opsledger/core/store";

export interface ArrayStore extends EventStore {
  /** The raw lines of a stream, for tamper tests. */
  readonly lines: Map<string, string[]>;
}

export function createArrayStore(): ArrayStore {
  const lines = new Map<string, string[]>();
  const heads = new Map<string, StreamHead>();
  const snapshots = new Map<string, StoredSnapshot[]>(); // per stream, newest first
  let closed = false;
  const open = () => {
    if (closed) throw new StoreClosedError("array");
  };
  return {
    lines,
    async append(request: AppendRequest): Promise<StreamHead> {
      open();
      checkAppendRequest(request); // safe stream id, consecutive seqs from expectedSeq + 1
      const current = heads.get(request.streamId)?.seq ?? 0;
      // the compare-and-set: only on the head the caller built on, all records or none
      if (current !== request.expectedSeq) throw new StreamConflictError(request.streamId, request.expectedSeq, current);
      const stream = lines.get(request.streamId) ?? [];
      stream.push(...request.records.map((record) => record.line)); // stored verbatim, never parsed
      lines.set(request.streamId, stream);
      const last = request.records[request.records.length - 1] as (typeof request.records)[0];
      const head = { seq: last.seq, hash: last.hash };
      heads.set(request.streamId, head);
      return head;
    },
    async *read(streamId: string, options?: ReadOptions): AsyncIterable<StoredRecord> {
      open();
      parseStreamId(streamId);
      const stream = lines.get(streamId) ?? [];
      const end = stream.length;
      for (let index = (options?.fromSeq ?? 1) - 1; index < end; index++) {
        open();
        if (index >= 0) yield { seq: index + 1, line: stream[index] as string };
      }
    },
    async head(streamId: string) {
      open();
      parseStreamId(streamId);
      return heads.get(streamId);
    },
    async putSnapshot(streamId: string, snapshot: StoredSnapshot) {
      open();
      parseStreamId(streamId);
      // the two newest are kept (the port's minimum); the core checks a snapshot against the log before use
      const others = (snapshots.get(streamId) ?? []).filter((kept) => kept.seq !== snapshot.seq);
      snapshots.set(streamId, [{ seq: snapshot.seq, body: snapshot.body }, ...others].sort((a, b) => b.seq - a.seq).slice(0, 2));
    },
    async *snapshots(streamId: string) {
      open();
      parseStreamId(streamId);
      yield* snapshots.get(streamId) ?? [];
    },
    async *listStreams() {
      open();
      yield* [...lines.keys()].sort();
    },
    async close() {
      closed = true;
    },
  };
}
