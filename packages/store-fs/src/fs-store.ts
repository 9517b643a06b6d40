import { dirname, join } from "node:path";
import {
  type AppendRequest,
  checkAppendRequest,
  type EventStore,
  isOpsledgerError,
  openSealedLine,
  parseStreamId,
  type ReadOptions,
  StoreClosedError,
  type StoredRecord,
  type StoredSnapshot,
  StoreIntegrityError,
  StoreUnavailableError,
  StreamConflictError,
  type StreamHead,
  sealedLineHash,
  sealedLineHead,
} from "@opsledger/core/store";
import { type FileHandleOps, type FileOps, nodeFileOps, type ProcessIdentity, thisProcess } from "./file-ops.ts";
import { type Chunk, type Pending, planGroupCommit, type Tail } from "./group-commit.ts";
import { LOCK_FILE, withLock } from "./lock.ts";
import { LinkedSegmentError, listSegments, readSegmentChunks, readSegmentEnd, seekLine, writeFully } from "./segments.ts";
import { snapshotFiles } from "./snapshots.ts";

const ADAPTER = "fs";
// a read that starts more lines than this into a segment seeks its first record instead of counting lines
const SEEK_AFTER_LINES = 4096;

// a record as read: its location string is built only when a report asks for it
class FsRecord implements StoredRecord {
  readonly seq: number;
  readonly line: string;
  readonly #streamId: string;
  readonly #segment: string;
  readonly #offset: number;
  constructor(seq: number, line: string, streamId: string, segment: string, offset: number) {
    this.seq = seq;
    this.line = line;
    this.#streamId = streamId;
    this.#segment = segment;
    this.#offset = offset;
  }
  get location(): string {
    return `${this.#streamId}/${this.#segment}:${this.#offset}`;
  }
}

/**
 * A repair the store made before its next write: `torn_tail`, bytes after the last record that
 * are not a record (a write cut short by a crash or a full disk, never acknowledged), cut off;
 * `missing_newline`, a whole record that lost only its final newline, kept and given it back;
 * `empty_segment`, a segment whose creating write never completed, removed.
 */
export interface RecoveryEvent {
  readonly kind: "torn_tail" | "missing_newline" | "empty_segment";
  readonly streamId: string;
  readonly segment: string;
  /** Byte offset of the repair: where the segment was cut back to, or where the newline went. */
  readonly offset: number;
  /** Bytes removed (0 for `missing_newline`). */
  readonly truncatedBytes: number;
}

/** Bytes after a stream's last record that are not a record, found by a read (repaired by the next write). */
export interface TailDamage {
  readonly kind: "torn_tail";
  readonly streamId: string;
  readonly segment: string;
  readonly offset: number;
  readonly bytes: number;
}

/** Options of `createFsEventStore`. */
export interface FsEventStoreOptions {
  /** The store's directory: one sub-directory per stream. Created when missing. */
  readonly dir: string;
  /** A new segment file starts once the current one reaches this size; defaults to 64 MiB. */
  readonly segmentBytes?: number;
  /** How long an append waits for another process's lock before failing; defaults to 10 s. */
  readonly lockTimeoutMs?: number;
  /** How long a writer keeps the stream's lock waiting for its next append; defaults to 5 ms. */
  readonly lingerMs?: number;
  /** The longest a writer holds the lock while appends keep coming; defaults to 100 ms. */
  readonly maxHoldMs?: number;
  /** Called for every repair; the store also keeps them in `recoveries`. */
  readonly onRecovery?: (event: RecoveryEvent) => void;
  /** Called when a read finds bytes after the last record that are not a record (before any write repairs them). */
  readonly onTailDamage?: (damage: TailDamage) => void;
  /** @internal The filesystem; tests put a faulty or simulated one here. */
  readonly fileOps?: FileOps;
  /** @internal Who this process is, for the lock; tests simulate other processes and reboots. */
  readonly identity?: ProcessIdentity;
}

/** The filesystem store: the port, plus what it repaired and what it found. */
export interface FsEventStore extends EventStore {
  readonly dir: string;
  /** Repairs made since the store was created, in order. */
  readonly recoveries: readonly RecoveryEvent[];
  /** Tail damage found by reads since the store was created (each repaired by the next write). */
  readonly tailDamage: readonly TailDamage[];
}

interface Writer {
  readonly streamId: string;
  readonly dir: string;
  queue: Pending[];
  flushing: Promise<void> | undefined;
  tail: Tail | undefined;
  handle: { name: string; file: FileHandleOps } | undefined;
  /** Set while the flusher lingers for more appends. */
  wake: (() => void) | undefined;
  /** Set when a failed append could not be cut back: nothing written since can be trusted. */
  failed: Error | undefined;
  /** The stream directory's entry in the store directory is known durable. */
  dirSynced: boolean;
}

/**
 * An event store on the local filesystem. Each stream is a directory of NDJSON segment files
 * named by their first seq; each line is exactly the sealed bytes. An append resolves only after
 * all of its bytes are written and `fdatasync`ed (and the directory synced when a segment is
 * created); concurrent appends in one process are group-committed under one sync. An append that
 * fails is cut back from the segment (and synced) before it is rejected, so a rejected append is
 * never visible after reopen; if even the cut-back fails, the stream refuses every further append
 * until the store is reopened. Across processes a lock file makes one writer at a time (see
 * `withLock`); readers never lock. Bytes after the last record are repaired by the next write and
 * reported; damage anywhere else is an integrity failure. Nothing is opened through a symbolic link.
 * @example
 * const store = createFsEventStore({ dir: "./.opsledger" });
 * const ledger = await openLedger({ store, fleetId: "default" });
 */
export function createFsEventStore(options: FsEventStoreOptions): FsEventStore {
  const root = options.dir;
  const ops = options.fileOps ?? nodeFileOps;
  const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const lingerMs = options.lingerMs ?? 5;
  const maxHoldMs = options.maxHoldMs ?? 100;
  const writers = new Map<string, Writer>();
  const recoveries: RecoveryEvent[] = [];
  const tailDamage: TailDamage[] = [];
  let identity: Promise<ProcessIdentity> | undefined;
  let closed = false;
  let rootReady: Promise<void> | undefined;

  const assertOpen = (): void => {
    if (closed) throw new StoreClosedError(ADAPTER);
  };
  // the port's error for what a file operation threw: a link is damage, anything else the store being unavailable
  const toStoreError = (operation: string, streamId: string | undefined, error: unknown): unknown => {
    if (isOpsledgerError(error)) return error;
    if (error instanceof LinkedSegmentError) return new StoreIntegrityError(streamId ?? "", undefined, error.path, error.message);
    return new StoreUnavailableError(ADAPTER, operation, streamId, { cause: error });
  };
  const fail = (operation: string, streamId: string | undefined, error: unknown): never => {
    throw toStoreError(operation, streamId, error);
  };
  const recover = (event: RecoveryEvent): void => {
    recoveries.push(event);
    options.onRecovery?.(event);
  };
  const damaged = (damage: TailDamage): void => {
    tailDamage.push(damage);
    options.onTailDamage?.(damage);
  };

  const ensureRoot = () => {
    // a store directory made here is synced into its parent, like every directory the store creates
    rootReady ??= ops.mkdir(root).then((created) => (created ? ops.syncDir(dirname(root)) : undefined));
    rootReady.catch(() => {
      rootReady = undefined; // tried again next time
    });
    return rootReady;
  };

  /**
   * Reads the end of a stream: its last record and what follows it, a bounded read at the end of
   * the last segment. With `repair` (only under the lock) what follows is repaired and reported:
   * bytes that are not a record are cut off, a record without its newline gets it back, an empty
   * last segment is removed. Without it, empty last segments (being created right now, or left by
   * a crash) are looked past.
   */
  async function readTail(streamId: string, dir: string, repair: boolean): Promise<Tail> {
    let drop = 0;
    for (;;) {
      const all = await listSegments(ops, dir);
      const segments = all.slice(0, all.length - drop);
      const last = segments[segments.length - 1];
      if (!last) return { name: undefined, size: 0, head: undefined };
      const path = join(dir, last.name);
      const end = await readSegmentEnd(ops, path);
      let { lastLine } = end;
      let size = lastLine ? lastLine.offset + Buffer.byteLength(lastLine.line) + 1 : 0;
      if (end.trailing) {
        const { offset, bytes } = end.trailing;
        const unterminated = sealedLineHead(bytes.toString("utf8"));
        if (unterminated) {
          // a whole record that lost only its newline: it is a record, and keeps being one
          lastLine = { line: bytes.toString("utf8"), offset };
          size = end.size;
          if (repair) {
            await appendNewline(path);
            size = end.size + 1;
            recover({ kind: "missing_newline", streamId, segment: last.name, offset: end.size, truncatedBytes: 0 });
          }
        } else if (repair) {
          await truncate(path, offset);
          recover({ kind: "torn_tail", streamId, segment: last.name, offset, truncatedBytes: bytes.length });
        } else {
          damaged({ kind: "torn_tail", streamId, segment: last.name, offset, bytes: bytes.length });
        }
      }
      if (!lastLine) {
        if (repair) {
          // a segment whose creating write never completed: nothing in it was acknowledged
          await ops.unlink(path);
          await ops.syncDir(dir);
          recover({ kind: "empty_segment", streamId, segment: last.name, offset: 0, truncatedBytes: end.size });
        } else {
          drop++;
        }
        continue;
      }
      // the last record as it claims to be: an edited one still names its seq and hash, and verification reports the edit
      const opened = openSealedLine(lastLine.line);
      const hash = opened.ok ? opened.claimedHash : sealedLineHash(lastLine.line);
      if (hash === undefined || (opened.ok && opened.envelope.seq < last.firstSeq)) {
        throw new StoreIntegrityError(
          streamId,
          undefined,
          `${streamId}/${last.name}:${lastLine.offset}`,
          "the last record is not a sealed line",
        );
      }
      return { name: last.name, size, head: { seq: opened.ok ? opened.envelope.seq : last.firstSeq, hash } };
    }
  }

  async function truncate(path: string, length: number): Promise<void> {
    const handle = await ops.open(path, "append");
    try {
      await handle.truncate(length);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  async function appendNewline(path: string): Promise<void> {
    const handle = await ops.open(path, "append");
    try {
      await writeFully(handle, Buffer.from("\n"));
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  function writerOf(streamId: string): Writer {
    let writer = writers.get(streamId);
    if (!writer) {
      writer = {
        streamId,
        dir: join(root, streamId),
        queue: [],
        flushing: undefined,
        tail: undefined,
        handle: undefined,
        wake: undefined,
        failed: undefined,
        dirSynced: false,
      };
      writers.set(streamId, writer);
    }
    return writer;
  }

  async function fileFor(writer: Writer, name: string, create: boolean): Promise<FileHandleOps> {
    if (writer.handle?.name === name) return writer.handle.file;
    await closeHandle(writer);
    // always O_APPEND (O_EXCL to create): other processes append to the same file between our commits
    const file = await ops.open(join(writer.dir, name), create ? "create" : "append");
    writer.handle = { name, file };
    return file;
  }

  async function closeHandle(writer: Writer): Promise<void> {
    const handle = writer.handle;
    writer.handle = undefined;
    await handle?.file.close().catch(() => undefined);
  }

  // Takes a failed chunk back out of the disk: a new segment is emptied, synced and removed (an
  // empty segment that reappears after a power loss is one a reader looks past), an existing one
  // is cut back to its length before the commit and synced. False when that failed too.
  async function cutBack(writer: Writer, chunk: Chunk, before: number): Promise<boolean> {
    const path = join(writer.dir, chunk.name);
    try {
      if (chunk.create) {
        try {
          await truncate(path, 0);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") return true; // never created
          throw error;
        }
        await ops.unlink(path);
        await ops.syncDir(writer.dir);
      } else {
        await truncate(path, before);
      }
      return true;
    } catch {
      return false;
    }
  }

  // one group commit: every queued append checked in order against the head, written and synced
  // one segment at a time; the appends of a segment that made it are acknowledged, the rest rejected
  async function commit(writer: Writer, batch: Pending[], trusted: boolean): Promise<void> {
    let tail: Tail;
    if (trusted && writer.tail) {
      // we have held the lock since our last commit: nobody else wrote
      tail = writer.tail;
    } else {
      tail = await readTail(writer.streamId, writer.dir, true);
      writer.tail = tail;
    }
    const { chunks, conflicts } = planGroupCommit(tail, batch, segmentBytes);
    for (const { pending, headSeq } of conflicts)
      pending.reject(new StreamConflictError(pending.request.streamId, pending.request.expectedSeq, headSeq));
    for (const [index, chunk] of chunks.entries()) {
      const before = chunk.create ? 0 : tail.size;
      const data = Buffer.from(chunk.parts.join(""));
      try {
        const file = await fileFor(writer, chunk.name, chunk.create);
        await writeFully(file, data);
        // after a failed fdatasync nothing about the unsynced bytes can be trusted: never retried
        await file.datasync();
        if (chunk.create) await ops.syncDir(writer.dir);
      } catch (error) {
        await closeHandle(writer);
        writer.tail = undefined;
        const takenBack = await cutBack(writer, chunk, before);
        if (!takenBack) {
          writer.failed = new Error(
            `an append to ${chunk.name} failed (${(error as Error).message}) and could not be cut back: reopen the store`,
          );
        }
        // this segment's appends may be on disk when the cut-back failed; later segments' were never written
        const failure = new StoreUnavailableError(ADAPTER, "append", writer.streamId, { cause: error, indeterminate: !takenBack });
        for (const { pending } of chunk.pendings) pending.reject(failure);
        const unwritten = new StoreUnavailableError(ADAPTER, "append", writer.streamId, { cause: error });
        for (const rest of chunks.slice(index + 1)) for (const { pending } of rest.pendings) pending.reject(unwritten);
        return;
      }
      tail = { name: chunk.name, size: before + data.length, head: chunk.pendings[chunk.pendings.length - 1]?.head };
      writer.tail = tail;
      // these are durable now, whatever happens to the next segment
      for (const { pending, head } of chunk.pendings) pending.resolve(head);
    }
  }

  // Holds the stream's lock while appends keep coming (up to `maxHoldMs`, lingering `lingerMs` for the
  // next one): a busy writer pays for the lock and the tail check once per hold, not per append,
  // and other processes still get their turn at least every `maxHoldMs`.
  async function flush(writer: Writer): Promise<void> {
    // never finish synchronously: the caller stores this promise in `writer.flushing`, which the end of flush clears
    await undefined;
    while (writer.queue.length > 0) {
      try {
        if (writer.failed) throw new StoreUnavailableError(ADAPTER, "append", writer.streamId, { cause: writer.failed });
        // the stream's directory entry must be durable before anything in it is acknowledged
        // (synced once per writer: a sync that failed earlier leaves it unknown)
        if ((await ops.mkdir(writer.dir)) || !writer.dirSynced) await ops.syncDir(root);
        writer.dirSynced = true;
        if ((await ops.stat(writer.dir)).kind === "symlink") throw new LinkedSegmentError(writer.dir);
        identity ??= options.identity ? Promise.resolve(options.identity) : thisProcess();
        const me = await identity;
        await withLock(ops, me, join(writer.dir, LOCK_FILE), writer.streamId, lockTimeoutMs, async () => {
          const since = Date.now();
          let trusted = false; // the first commit under a fresh lock re-reads the tail from disk
          for (;;) {
            const batch = writer.queue.splice(0);
            try {
              await commit(writer, batch, trusted);
            } catch (error) {
              writer.tail = undefined;
              for (const pending of batch) pending.reject(toStoreError("append", writer.streamId, error));
              return;
            }
            if (writer.failed) return;
            trusted = writer.tail !== undefined;
            if (Date.now() - since >= maxHoldMs) return;
            if (writer.queue.length === 0) await arrival(writer, lingerMs);
            if (writer.queue.length === 0) return;
          }
        });
      } catch (error) {
        // the lock itself failed (timeout, permissions), or the stream refuses appends: everything queued fails with it
        writer.tail = undefined;
        const failure = toStoreError("append", writer.streamId, error);
        for (const pending of writer.queue.splice(0)) pending.reject(failure);
      }
    }
    writer.flushing = undefined;
  }

  // resolves when an append arrives for this writer, or after `ms`
  function arrival(writer: Writer, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        writer.wake = undefined;
        resolve();
      }
      writer.wake = done;
    });
  }

  const store: FsEventStore = {
    dir: root,
    recoveries,
    tailDamage,

    async append(request: AppendRequest): Promise<StreamHead> {
      assertOpen();
      checkAppendRequest(request);
      await ensureRoot().catch((error) => fail("append", request.streamId, error));
      const writer = writerOf(request.streamId);
      const result = new Promise<StreamHead>((resolve, reject) => writer.queue.push({ request, resolve, reject }));
      writer.wake?.();
      writer.flushing ??= flush(writer);
      return result;
    },

    async *read(streamId: string, readOptions?: ReadOptions): AsyncIterable<StoredRecord> {
      assertOpen();
      parseStreamId(streamId);
      const dir = join(root, streamId);
      const fromSeq = readOptions?.fromSeq ?? 1;
      let segments: { firstSeq: number; name: string }[];
      try {
        segments = await listSegments(ops, dir);
      } catch (error) {
        return fail("read", streamId, error);
      }
      // Every line is yielded as it is, whatever the segment names say: a missing, overlapping or
      // renamed segment shows in the records' own seqs, and verification names the exact record
      // (a segment's name is where it was written to start, not proof of what it holds). A read
      // from deep inside a segment finds its start by the lines' own seqs, so in a segment with
      // lines removed or added before that point it counts from a line that says its seq; a read
      // from seq 1, which is what verification does, counts every line.
      for (const [index, segment] of segments.entries()) {
        const next = segments[index + 1];
        if (next && next.firstSeq <= fromSeq) continue; // ends before fromSeq: its successor's name says so
        const isLast = index === segments.length - 1;
        // from the middle of a long segment: start near the record (found by its seq), then the
        // lines before fromSeq are counted, not decoded
        const path = join(dir, segment.name);
        let start = { offset: 0, seq: segment.firstSeq };
        try {
          if (fromSeq - segment.firstSeq > SEEK_AFTER_LINES) start = await seekLine(ops, path, segment.firstSeq, fromSeq);
        } catch (error) {
          return fail("read", streamId, error);
        }
        let seq = Math.max(fromSeq, start.seq);
        let trailing: { offset: number; bytes: Buffer } | undefined;
        const from = { offset: start.offset, skipLines: seq - start.seq };
        const chunks = readSegmentChunks(ops, path, from, (offset, bytes, completeLines) => {
          trailing = { offset, bytes };
          seq = start.seq + completeLines;
        });
        try {
          for await (const lines of chunks) {
            assertOpen();
            // a chunk of lines at a time: one await per chunk, not per record
            for (const { line, offset } of lines) {
              if (seq >= fromSeq) yield new FsRecord(seq, line, streamId, segment.name, offset);
              seq++;
            }
          }
        } catch (error) {
          return fail("read", streamId, error);
        }
        const end = trailing as { offset: number; bytes: Buffer } | undefined;
        if (end && isLast && sealedLineHead(end.bytes.toString("utf8"))) {
          // a whole last record that lost only its newline is still a record
          if (seq >= fromSeq) yield new FsRecord(seq, end.bytes.toString("utf8"), streamId, segment.name, end.offset);
          seq++;
        } else if (end && isLast) {
          // a write in progress, or bytes left by a crash: not a record; named, and repaired by the next write
          damaged({ kind: "torn_tail", streamId, segment: segment.name, offset: end.offset, bytes: end.bytes.length });
        } else if (end && seq >= fromSeq) {
          // a segment before the last cut short: damage, never repaired; yielded for verification to name
          yield new FsRecord(seq, end.bytes.toString("utf8"), streamId, segment.name, end.offset);
        }
      }
    },

    async head(streamId: string): Promise<StreamHead | undefined> {
      assertOpen();
      parseStreamId(streamId);
      try {
        return (await readTail(streamId, join(root, streamId), false)).head;
      } catch (error) {
        return fail("head", streamId, error);
      }
    },

    async putSnapshot(streamId: string, snapshot: StoredSnapshot): Promise<void> {
      assertOpen();
      parseStreamId(streamId);
      try {
        await ensureRoot();
        await snapshotFiles(ops, root, streamId).put(snapshot);
      } catch (error) {
        fail("putSnapshot", streamId, error);
      }
    },

    async *snapshots(streamId: string): AsyncIterable<StoredSnapshot> {
      assertOpen();
      parseStreamId(streamId);
      try {
        yield* snapshotFiles(ops, root, streamId).list();
      } catch (error) {
        fail("snapshots", streamId, error);
      }
    },

    async *listStreams(): AsyncIterable<string> {
      assertOpen();
      let entries: Awaited<ReturnType<FileOps["readdir"]>>;
      try {
        entries = await ops.readdir(root);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        return fail("listStreams", undefined, error);
      }
      const ids: string[] = [];
      for (const entry of entries) {
        if (entry.kind !== "directory") continue;
        try {
          parseStreamId(entry.name);
        } catch {
          continue;
        }
        if ((await listSegments(ops, join(root, entry.name))).length > 0) ids.push(entry.name);
      }
      yield* ids.sort();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const writer of writers.values()) writer.wake?.();
      await Promise.all([...writers.values()].map((w) => w.flushing));
      await Promise.all([...writers.values()].map((w) => closeHandle(w)));
    },
  };
  return store;
}
