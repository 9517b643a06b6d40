import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  type AppendRequest,
  checkAppendRequest,
  type EventStore,
  isOpsledgerError,
  parseStreamId,
  type ReadOptions,
  StoreClosedError,
  type StoredRecord,
  StoreIntegrityError,
  StoreUnavailableError,
  StreamConflictError,
  type StreamHead,
  sealedLineHash,
} from "@opsledger/core";
import { withLock } from "./lock.ts";
import { listSegments, readSegmentChunks, readSegmentLines, segmentName } from "./segments.ts";

const ADAPTER = "fs";

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

/** A torn last line found on open and truncated (a crash cut a write short; it was never acknowledged). */
export interface RecoveryEvent {
  readonly streamId: string;
  readonly segment: string;
  /** Byte offset the segment was truncated back to. */
  readonly offset: number;
  readonly truncatedBytes: number;
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
  /** Called for every torn tail repaired; the store also keeps them in `recoveries`. */
  readonly onRecovery?: (event: RecoveryEvent) => void;
}

/** The filesystem store: the port, plus what it repaired. */
export interface FsEventStore extends EventStore {
  readonly dir: string;
  /** Torn tails truncated since the store was created, in order. */
  readonly recoveries: readonly RecoveryEvent[];
}

interface Pending {
  readonly request: AppendRequest;
  readonly resolve: (head: StreamHead) => void;
  readonly reject: (error: unknown) => void;
}

// what is known of a stream's last segment, checked against the disk under the lock
interface Tail {
  readonly segments: number;
  readonly name: string | undefined;
  readonly firstSeq: number;
  /** Bytes of complete lines in the last segment. */
  readonly size: number;
  readonly head: StreamHead | undefined;
}

interface Writer {
  readonly streamId: string;
  readonly dir: string;
  queue: Pending[];
  flushing: Promise<void> | undefined;
  tail: Tail | undefined;
  handle: { name: string; file: FileHandle } | undefined;
  /** Set while the flusher lingers for more appends. */
  wake: (() => void) | undefined;
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * An event store on the local filesystem. Each stream is a directory of NDJSON segment files
 * named by their first seq; each line is exactly the sealed bytes. An append resolves only after
 * its bytes are written and `fdatasync`ed (and the directory synced when a segment is created);
 * concurrent appends in one process are group-committed under one sync. Across processes a lock
 * file makes one writer at a time (see `withLock` for the stale-lock rule); readers never lock.
 * A torn last line is truncated and reported; damage anywhere else is an integrity failure.
 * @example
 * const store = createFsEventStore({ dir: "./.opsledger" });
 * const ledger = await openLedger({ store, fleetId: "default" });
 */
export function createFsEventStore(options: FsEventStoreOptions): FsEventStore {
  const root = options.dir;
  const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const lingerMs = options.lingerMs ?? 5;
  const maxHoldMs = options.maxHoldMs ?? 100;
  const writers = new Map<string, Writer>();
  const recoveries: RecoveryEvent[] = [];
  let closed = false;
  let rootReady: Promise<void> | undefined;

  const assertOpen = (): void => {
    if (closed) throw new StoreClosedError(ADAPTER);
  };
  const fail = (operation: string, streamId: string | undefined, error: unknown): never => {
    if (isOpsledgerError(error)) throw error;
    throw new StoreUnavailableError(ADAPTER, operation, streamId, { cause: error });
  };

  const ensureRoot = () => {
    rootReady ??= mkdir(root, { recursive: true }).then(() => undefined);
    return rootReady;
  };

  /**
   * Reads the tail of a stream from disk, from what `known` already covers. With `repair`
   * (only under the lock) a torn last line is truncated and an empty last segment removed.
   */
  async function readTail(streamId: string, dir: string, known: Tail | undefined, repair: boolean): Promise<Tail> {
    let drop = 0; // trailing empty segments a reader looks past
    for (;;) {
      const all = await listSegments(dir);
      const segments = all.slice(0, all.length - drop);
      const last = segments[segments.length - 1];
      if (!last) return { segments: 0, name: undefined, firstSeq: 1, size: 0, head: undefined };
      const path = join(dir, last.name);
      const size = (await stat(path)).size;
      if (known && known.segments === segments.length && known.name === last.name && known.size === size) return known;
      // scan from where the known tail ends when it is the same segment, else from its start
      const resume = known && known.name === last.name && known.size <= size ? known : undefined;
      let count = resume?.head ? resume.head.seq - last.firstSeq + 1 : 0;
      let end = resume?.size ?? 0;
      let lastLine: { line: string; offset: number } | undefined;
      let torn: { offset: number; bytes: number } | undefined;
      for await (const entry of readSegmentLines(path, end, (offset, bytes) => {
        torn = { offset, bytes };
      })) {
        count++;
        lastLine = entry;
        end = entry.offset + Buffer.byteLength(entry.line) + 1;
      }
      if (torn && repair) {
        await truncate(path, torn.offset);
        const event = { streamId, segment: last.name, offset: torn.offset, truncatedBytes: torn.bytes };
        recoveries.push(event);
        options.onRecovery?.(event);
      }
      if (count === 0) {
        if (repair) {
          // a segment whose creating write never completed: nothing in it was acknowledged
          await unlink(path);
          await syncDir(dir);
        } else {
          // being created by another writer right now (or left empty by a crash): no record in it yet
          drop++;
        }
        known = undefined;
        continue;
      }
      const seq = last.firstSeq + count - 1;
      const hash = lastLine ? sealedLineHash(lastLine.line) : resume?.head?.hash;
      if (hash === undefined) {
        throw new StoreIntegrityError(streamId, seq, `${last.name}:${lastLine?.offset ?? 0}`, "the last record is not a sealed line");
      }
      return { segments: segments.length, name: last.name, firstSeq: last.firstSeq, size: end, head: { seq, hash } };
    }
  }

  async function truncate(path: string, length: number): Promise<void> {
    const handle = await open(path, "r+");
    try {
      await handle.truncate(length);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  function writerOf(streamId: string): Writer {
    let writer = writers.get(streamId);
    if (!writer) {
      writer = { streamId, dir: join(root, streamId), queue: [], flushing: undefined, tail: undefined, handle: undefined, wake: undefined };
      writers.set(streamId, writer);
    }
    return writer;
  }

  async function fileFor(writer: Writer, name: string, create: boolean): Promise<FileHandle> {
    if (writer.handle?.name === name) return writer.handle.file;
    await writer.handle?.file.close();
    writer.handle = undefined;
    // always O_APPEND ("ax" creates exclusively): other processes append to the same file between our commits
    const file = await open(join(writer.dir, name), create ? "ax" : "a");
    writer.handle = { name, file };
    return file;
  }

  // one group commit: every queued append checked in order against the head, written, one sync per segment
  async function commit(writer: Writer, batch: Pending[], trusted: boolean): Promise<void> {
    let tail: Tail;
    if (trusted && writer.tail) {
      // we have held the lock since our last commit: nobody else wrote
      tail = writer.tail;
    } else {
      const created = await mkdir(writer.dir, { recursive: true });
      if (created !== undefined) await syncDir(root);
      tail = await readTail(writer.streamId, writer.dir, writer.tail, true);
      writer.tail = tail;
    }
    let running = tail.head;
    const accepted: { pending: Pending; head: StreamHead }[] = [];
    // groups of lines by segment, in order
    const chunks: { name: string; create: boolean; parts: string[]; bytes: number }[] = [];
    let current = tail.name === undefined ? undefined : { name: tail.name, size: tail.size };
    for (const pending of batch) {
      const { request } = pending;
      const headSeq = running?.seq ?? 0;
      if (request.expectedSeq !== headSeq) {
        pending.reject(new StreamConflictError(request.streamId, request.expectedSeq, headSeq));
        continue;
      }
      const text = `${request.records.map((r) => r.line).join("\n")}\n`;
      const bytes = Buffer.byteLength(text);
      if (!current || (current.size > 0 && current.size + bytes > segmentBytes)) {
        current = { name: segmentName(request.records[0].seq), size: 0 };
        chunks.push({ name: current.name, create: true, parts: [], bytes: 0 });
      } else if (chunks.length === 0 || chunks[chunks.length - 1]?.name !== current.name) {
        chunks.push({ name: current.name, create: false, parts: [], bytes: 0 });
      }
      const chunk = chunks[chunks.length - 1] as (typeof chunks)[number];
      chunk.parts.push(text);
      chunk.bytes += bytes;
      current.size += bytes;
      const last = request.records[request.records.length - 1] as (typeof request.records)[0];
      running = { seq: last.seq, hash: last.hash };
      accepted.push({ pending, head: running });
    }
    try {
      for (const chunk of chunks) {
        const file = await fileFor(writer, chunk.name, chunk.create);
        const before = chunk.create ? 0 : tail.name === chunk.name ? tail.size : 0;
        try {
          await file.write(chunk.parts.join(""));
          await file.datasync();
        } catch (error) {
          // leave nothing unacknowledged behind: cut the segment back to what it held
          await file.truncate(before).catch(() => undefined);
          throw error;
        }
        if (chunk.create) await syncDir(writer.dir);
        tail = {
          segments: tail.segments + (chunk.create ? 1 : 0),
          name: chunk.name,
          firstSeq: chunk.create ? seqOf(chunk.name) : tail.firstSeq,
          size: before + chunk.bytes,
          head: running,
        };
      }
    } catch (error) {
      writer.tail = undefined;
      await writer.handle?.file.close().catch(() => undefined);
      writer.handle = undefined;
      const failure = new StoreUnavailableError(ADAPTER, "append", writer.streamId, { cause: error });
      for (const { pending } of accepted) pending.reject(failure);
      return;
    }
    writer.tail = tail;
    for (const { pending, head } of accepted) pending.resolve(head);
  }

  const seqOf = (name: string): number => Number(name.slice(0, 20));

  // Holds the stream's lock while appends keep coming (up to `maxHoldMs`, lingering `lingerMs` for the
  // next one): a busy writer pays for the lock and the tail check once per hold, not per append,
  // and other processes still get their turn at least every `maxHoldMs`.
  async function flush(writer: Writer): Promise<void> {
    while (writer.queue.length > 0) {
      try {
        await withLock(join(root, `${writer.streamId}.lock`), writer.streamId, lockTimeoutMs, async () => {
          const since = Date.now();
          let trusted = false; // the first commit under a fresh lock re-reads the tail from disk
          for (;;) {
            const batch = writer.queue.splice(0);
            try {
              await commit(writer, batch, trusted);
            } catch (error) {
              writer.tail = undefined;
              const failure = isOpsledgerError(error)
                ? error
                : new StoreUnavailableError(ADAPTER, "append", writer.streamId, { cause: error });
              for (const pending of batch) pending.reject(failure);
              return;
            }
            trusted = writer.tail !== undefined;
            if (Date.now() - since >= maxHoldMs) return;
            if (writer.queue.length === 0) await arrival(writer, lingerMs);
            if (writer.queue.length === 0) return;
          }
        });
      } catch (error) {
        // the lock itself failed (timeout, permissions): everything queued fails with it
        writer.tail = undefined;
        for (const pending of writer.queue.splice(0)) pending.reject(error);
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
        segments = await listSegments(dir);
      } catch (error) {
        return fail("read", streamId, error);
      }
      let expected = segments[0]?.firstSeq ?? 1;
      if (expected !== 1) throw new StoreIntegrityError(streamId, 1, segments[0]?.name, `the first segment starts at seq ${expected}`);
      for (const [index, segment] of segments.entries()) {
        if (segment.firstSeq !== expected) {
          throw new StoreIntegrityError(
            streamId,
            expected,
            segment.name,
            `segment starts at seq ${segment.firstSeq}, expected seq ${expected} (a segment is missing or overlaps)`,
          );
        }
        const next = segments[index + 1];
        if (next && next.firstSeq <= fromSeq) {
          // skipped without reading: its successor's name says how many records it holds
          expected = next.firstSeq;
          continue;
        }
        const isLast = index === segments.length - 1;
        let seq = segment.firstSeq;
        let tornAt: number | undefined;
        for await (const lines of readSegmentChunks(join(dir, segment.name), 0, (at) => {
          tornAt = at;
        })) {
          assertOpen();
          // a chunk of lines at a time: one await per chunk, not per record
          for (const { line, offset } of lines) {
            if (seq >= fromSeq) yield new FsRecord(seq, line, streamId, segment.name, offset);
            seq++;
          }
        }
        // a torn last line of the last segment is a write in progress (or awaiting recovery): not yet a record
        if (tornAt !== undefined && !isLast) {
          throw new StoreIntegrityError(
            streamId,
            seq,
            `${streamId}/${segment.name}:${tornAt}`,
            "a segment before the last ends with an incomplete line",
          );
        }
        expected = seq;
      }
    },

    async head(streamId: string): Promise<StreamHead | undefined> {
      assertOpen();
      parseStreamId(streamId);
      try {
        return (await readTail(streamId, join(root, streamId), undefined, false)).head;
      } catch (error) {
        return fail("head", streamId, error);
      }
    },

    async *listStreams(): AsyncIterable<string> {
      assertOpen();
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(root, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        return fail("listStreams", undefined, error);
      }
      const ids: string[] = [];
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        try {
          parseStreamId(entry.name);
        } catch {
          continue;
        }
        if ((await listSegments(join(root, entry.name))).length > 0) ids.push(entry.name);
      }
      yield* ids.sort();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const writer of writers.values()) writer.wake?.();
      await Promise.all([...writers.values()].map((w) => w.flushing));
      await Promise.all([...writers.values()].map((w) => w.handle?.file.close().catch(() => undefined)));
    },
  };
  return store;
}
