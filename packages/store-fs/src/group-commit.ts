// The group commit's plan: which queued appends go to disk, in which segment, and which lose
// their race. Pure (no file is touched), so every split and conflict rule is tested on its own in
// test/group-commit.test.ts; fs-store.ts writes and syncs the plan one segment at a time.
import type { AppendRequest, StreamHead } from "@opsledger/core/store";
import { segmentName } from "./segments.ts";

/** One append waiting in a stream's queue. */
export interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (head: StreamHead) => void;
  readonly reject: (error: unknown) => void;
}

/** What is known of a stream's last segment, checked against the disk under the lock. */
export interface Tail {
  readonly name: string | undefined;
  /** Bytes of complete lines in the last segment. */
  readonly size: number;
  readonly head: StreamHead | undefined;
}

/** One segment's share of a group commit: written with one write and made durable with one sync. */
export interface Chunk {
  readonly name: string;
  /** A new segment (created O_EXCL, then the directory synced), or the tail segment appended to. */
  readonly create: boolean;
  readonly parts: string[];
  /** The appends this chunk acknowledges once synced, each with the head it leaves. */
  readonly pendings: { readonly pending: Pending; readonly head: StreamHead }[];
}

export interface GroupCommitPlan {
  readonly chunks: readonly Chunk[];
  /** Appends whose `expectedSeq` is not the head the appends before them leave: each is refused alone. */
  readonly conflicts: readonly { readonly pending: Pending; readonly headSeq: number }[];
}

/**
 * Checks every queued append in order against the head the ones before it leave, and lays the
 * accepted ones out in segments: a segment grows until the next append would take it past
 * `segmentBytes` (a single append larger than that still gets a segment of its own), and a new
 * segment is named by its first seq.
 */
export function planGroupCommit(tail: Tail, queue: readonly Pending[], segmentBytes: number): GroupCommitPlan {
  let running = tail.head;
  const chunks: Chunk[] = [];
  const conflicts: { pending: Pending; headSeq: number }[] = [];
  let current = tail.name === undefined ? undefined : { name: tail.name, size: tail.size };
  for (const pending of queue) {
    const { request } = pending;
    const headSeq = running?.seq ?? 0;
    if (request.expectedSeq !== headSeq) {
      conflicts.push({ pending, headSeq });
      continue;
    }
    const text = `${request.records.map((r) => r.line).join("\n")}\n`;
    const bytes = Buffer.byteLength(text);
    if (!current || (current.size > 0 && current.size + bytes > segmentBytes)) {
      current = { name: segmentName(request.records[0].seq), size: 0 };
      chunks.push({ name: current.name, create: true, parts: [], pendings: [] });
    } else if (chunks[chunks.length - 1]?.name !== current.name) {
      chunks.push({ name: current.name, create: false, parts: [], pendings: [] });
    }
    const chunk = chunks[chunks.length - 1] as Chunk;
    const last = request.records[request.records.length - 1] as (typeof request.records)[0];
    running = { seq: last.seq, hash: last.hash };
    chunk.parts.push(text);
    chunk.pendings.push({ pending, head: running });
    current.size += bytes;
  }
  return { chunks, conflicts };
}
