import { StoreClosedError, StreamConflictError } from "../errors.ts";
import { checkAppendRequest } from "./append-request.ts";
import type { AppendRequest, EventStore, ReadOptions, StoredRecord, StoredSnapshot, StreamHead } from "./event-store.ts";
import { parseStreamId } from "./stream-id.ts";

/** How many snapshots of a stream the memory store keeps (the port's minimum). */
const KEPT_SNAPSHOTS = 2;

interface MemoryStream {
  lines: string[];
  head: StreamHead;
}

// the streams behind each memory store, reachable only through `tamperMemoryRecord` (testing)
const streamsOf = new WeakMap<EventStore, Map<string, MemoryStream>>();

/**
 * The reference store: streams in memory, same semantics as every other adapter (it runs the
 * whole contract suite). For tests, replays and embedding where durability is not needed.
 */
export function createMemoryEventStore(): EventStore {
  const streams = new Map<string, MemoryStream>();
  const snapshots = new Map<string, StoredSnapshot[]>(); // per stream, newest first, at most KEPT_SNAPSHOTS
  let closed = false;
  const assertOpen = (): void => {
    if (closed) throw new StoreClosedError("memory");
  };

  const store: EventStore = {
    async append(request: AppendRequest): Promise<StreamHead> {
      assertOpen();
      checkAppendRequest(request);
      const stream = streams.get(request.streamId);
      const headSeq = stream?.head.seq ?? 0;
      if (headSeq !== request.expectedSeq) throw new StreamConflictError(request.streamId, request.expectedSeq, headSeq);
      const last = request.records[request.records.length - 1] as (typeof request.records)[0];
      const head = { seq: last.seq, hash: last.hash };
      const lines = request.records.map((record) => record.line);
      if (stream) {
        stream.lines.push(...lines);
        stream.head = head;
      } else {
        streams.set(request.streamId, { lines, head });
      }
      return head;
    },

    async *read(streamId: string, options?: ReadOptions): AsyncIterable<StoredRecord> {
      assertOpen();
      parseStreamId(streamId);
      const stream = streams.get(streamId);
      if (!stream) return;
      // a snapshot of the length: records appended during the read are not yielded
      const end = stream.lines.length;
      for (let index = Math.max(0, (options?.fromSeq ?? 1) - 1); index < end; index++) {
        assertOpen();
        yield { seq: index + 1, line: stream.lines[index] as string };
      }
    },

    async head(streamId: string): Promise<StreamHead | undefined> {
      assertOpen();
      parseStreamId(streamId);
      return streams.get(streamId)?.head;
    },

    async putSnapshot(streamId: string, snapshot: StoredSnapshot): Promise<void> {
      assertOpen();
      parseStreamId(streamId);
      const kept = (snapshots.get(streamId) ?? []).filter((other) => other.seq !== snapshot.seq);
      kept.push({ seq: snapshot.seq, body: snapshot.body });
      snapshots.set(streamId, kept.sort((a, b) => b.seq - a.seq).slice(0, KEPT_SNAPSHOTS));
    },

    async *snapshots(streamId: string): AsyncIterable<StoredSnapshot> {
      assertOpen();
      parseStreamId(streamId);
      yield* snapshots.get(streamId) ?? [];
    },

    async *listStreams(): AsyncIterable<string> {
      assertOpen();
      yield* [...streams.keys()].sort();
    },

    async close(): Promise<void> {
      closed = true;
    },
  };
  streamsOf.set(store, streams);
  return store;
}

/** Rewrites a stored line of a memory store behind its back (tamper tests only). */
export function tamperMemoryRecord(store: EventStore, streamId: string, seq: number, edit: (line: string) => string): void {
  const stream = streamsOf.get(store)?.get(streamId);
  if (!stream || seq < 1 || seq > stream.lines.length) throw new Error(`no record ${seq} in memory stream ${streamId}`);
  stream.lines[seq - 1] = edit(stream.lines[seq - 1] as string);
}
