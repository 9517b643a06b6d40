import { randomUUID } from "node:crypto";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  type AppendRequest,
  checkAppendRequest,
  type EventStore,
  InvalidValueError,
  parseStreamId,
  RECORDS_SUFFIX,
  type ReadOptions,
  rangeName,
  rangeOfExactName,
  SNAPSHOT_SUFFIX,
  StoreClosedError,
  type StoredRecord,
  type StoredSnapshot,
  StoreIntegrityError,
  StoreUnavailableError,
  StreamConflictError,
  type StreamHead,
  sealedLineHash,
  seqName,
  seqOfExactName,
  seqOfName,
} from "@opsledger/core/store";
import { LineFeed } from "./line-feed.ts";
import { isConditionalConflict, isNotFound, isPreconditionFailed, unavailable } from "./s3-errors.ts";
import { nextSegment, type SegmentRange, segmentChain } from "./segments.ts";

/** Options of `createS3EventStore`. */
export interface S3EventStoreOptions {
  /** A constructed client: the adapter never reads credentials or the environment. */
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix of this store (`fleets/prod`); letters, digits, `.`, `_`, `-` and `/` between segments. */
  readonly prefix?: string;
  /** ListObjectsV2 page size; defaults to 1000 (S3's maximum). */
  readonly listPageSize?: number;
  /** Objects fetched at once when reading; defaults to 16. */
  readonly readConcurrency?: number;
  /** How often a 409 ConditionalRequestConflict is retried before it is a conflict; defaults to 5. */
  readonly conflictRetries?: number;
  /**
   * Refuse to write unless the bucket enforces conditional writes (probed once, before the first
   * append). Without enforcement two writers could both "win" the same position.
   */
  readonly requireConditionalWrites?: boolean;
  /**
   * Compaction: once this many records of whole batches lie after the last segment object, the
   * store copies them into one segment object (`.opsledger-segments/<stream>/<first>-<last>.ndjson`),
   * which readers fetch instead of the batches. Checked in the background after every tenth of this
   * many records appended by this store; defaults to 10,000; 0 turns compaction off. Segments are a
   * cache: the batches stay the log, and deleting segments is always safe.
   */
  readonly segmentRecords?: number;
  /** Hears of a compaction that failed (nothing is lost: the batches are the log, and the next check tries again). */
  onCompactionError?(error: unknown): void;
}

/** The S3 store: the port, plus the conditional-write probe. */
export interface S3EventStore extends EventStore {
  /** Writes a probe key twice with If-None-Match: * and reports whether the second write was refused. */
  probeConditionalWrites(): Promise<{ readonly enforced: boolean }>;
}

const ADAPTER = "s3";
const SNAPSHOT_FOLDER = ".opsledger-snapshots";
const SEGMENT_FOLDER = ".opsledger-segments";
/** How many snapshots of a stream the store keeps (the port's minimum). */
const KEPT_SNAPSHOTS = 2;
const PREFIX = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

// a record as read: its location (`<key>#<line>`) is built only when a report asks for it
class S3Record implements StoredRecord {
  readonly seq: number;
  readonly line: string;
  readonly #key: string;
  readonly #lineNumber: number;
  constructor(seq: number, line: string, key: string, lineNumber: number) {
    this.seq = seq;
    this.line = line;
    this.#key = key;
    this.#lineNumber = lineNumber;
  }
  get location(): string {
    return `${this.#key}#${this.#lineNumber}`;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An event store in S3 (or an S3-compatible service). Each append batch is one object whose key
 * is `<prefix>/<stream>/<first seq, zero-padded>.ndjson`, written with `If-None-Match: *`, so two
 * writers racing for one position produce one winner and one `StreamConflictError`.
 *
 * Head tracking: the store keeps each stream's last known object and lists only from it
 * (`StartAfter`), fetching the new last object when the listing moved; `head()` and every append
 * therefore cost one LIST of the newer keys, never a listing of the whole stream. An append
 * checks `expectedSeq` against this fresh head before its conditional PUT, which is what keeps a
 * writer with a stale head from writing past another writer's batch.
 * @example
 * const store = createS3EventStore({ client: new S3Client({}), bucket: "audit", prefix: "fleets/prod" });
 */
export function createS3EventStore(options: S3EventStoreOptions): S3EventStore {
  const { client, bucket } = options;
  const rawPrefix = (options.prefix ?? "").replace(/\/+$/, "");
  if (rawPrefix !== "" && (!PREFIX.test(rawPrefix) || rawPrefix.split("/").some((s) => s === ".." || s === "."))) {
    // a typo in the caller's input, not the store being down: refused as an invalid value
    throw new InvalidValueError(
      "prefix",
      `invalid key prefix ${JSON.stringify(options.prefix)}: segments of letters, digits, ".", "_" and "-" joined by "/", none "." or ".."`,
    );
  }
  const prefix = rawPrefix === "" ? "" : `${rawPrefix}/`;
  const pageSize = options.listPageSize ?? 1000;
  const concurrency = options.readConcurrency ?? 16;
  const retries = options.conflictRetries ?? 5;
  const segmentRecords = options.segmentRecords ?? 10_000;
  if (!Number.isSafeInteger(segmentRecords) || segmentRecords < 0)
    throw new InvalidValueError("segmentRecords", `must be a non-negative integer, got ${segmentRecords}`);
  const heads = new Map<string, { key: string; head: StreamHead }>();
  // the rival batch a lost race fetched, kept for the catch-up read that follows it
  const beaten = new Map<string, { key: string; firstSeq: number; lines: string[] }>();
  let closed = false;
  let closing = false;
  let probe: Promise<{ enforced: boolean }> | undefined;

  const assertOpen = (): void => {
    if (closed) throw new StoreClosedError(ADAPTER);
  };
  const streamPrefix = (streamId: string) => `${prefix}${streamId}/`;
  const keyOf = (streamId: string, firstSeq: number) => `${streamPrefix(streamId)}${seqName(firstSeq, RECORDS_SUFFIX)}`;
  // the seq a listed key is named by (the key layout every store shares; keys are checked when listed)
  const seqOfKey = (key: string, suffix = RECORDS_SUFFIX) => seqOfName(key, suffix) as number;
  // a key directly below `folder` named by the layout
  const named = (key: string, folder: string, suffix: string) => seqOfExactName(key.slice(folder.length), suffix) !== undefined;

  // snapshots live under a folder no stream id can name (ids never start with a dot)
  const snapshotPrefix = (streamId: string) => `${prefix}${SNAPSHOT_FOLDER}/${streamId}/`;
  const snapshotKey = (streamId: string, seq: number) => `${snapshotPrefix(streamId)}${seqName(seq, SNAPSHOT_SUFFIX)}`;
  // compacted segments, under a folder no stream id can name; each stream's chain is cached (segments never change)
  const segmentPrefix = (streamId: string) => `${prefix}${SEGMENT_FOLDER}/${streamId}/`;
  const chains = new Map<string, { ranges: SegmentRange[]; chain: SegmentRange[] }>();
  async function segmentsOf(streamId: string): Promise<SegmentRange[]> {
    const known = chains.get(streamId) ?? { ranges: [], chain: [] };
    const folder = segmentPrefix(streamId);
    const added: SegmentRange[] = [];
    const after = known.ranges[known.ranges.length - 1]?.key;
    for await (const page of listPages({ Prefix: folder, StartAfter: after }, "list", streamId)) {
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? "";
        const range = rangeOfExactName(key.slice(folder.length), RECORDS_SUFFIX);
        if (range) added.push({ key, ...range });
      }
    }
    if (added.length === 0 && chains.has(streamId)) return known.chain;
    const ranges = [...known.ranges, ...added];
    const chain = segmentChain(ranges);
    chains.set(streamId, { ranges, chain });
    return chain;
  }

  // a stream's snapshot keys, newest first
  async function snapshotKeys(streamId: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of listPages({ Prefix: snapshotPrefix(streamId) }, "snapshots", streamId)) {
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? "";
        if (named(key, snapshotPrefix(streamId), SNAPSHOT_SUFFIX)) keys.push(key);
      }
    }
    return keys.reverse();
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
  async function* listPages(
    input: { readonly Prefix: string; readonly Delimiter?: string; readonly StartAfter?: string | undefined },
    operation: string,
    streamId: string | undefined,
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const { StartAfter, ...rest } = input;
      try {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            MaxKeys: pageSize,
            ...rest,
            ...(token ? { ContinuationToken: token } : StartAfter ? { StartAfter } : {}),
          }),
        );
        yield page;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } catch (error) {
        throw unavailable(operation, streamId, error);
      }
    } while (token);
  }

  async function* listKeys(streamId: string, startAfter?: string): AsyncGenerator<string> {
    for await (const page of listPages({ Prefix: streamPrefix(streamId), StartAfter: startAfter }, "list", streamId)) {
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? "";
        if (named(key, streamPrefix(streamId), RECORDS_SUFFIX)) yield key;
      }
    }
  }

  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
  async function getLines(streamId: string, key: string): Promise<string[]> {
    try {
      const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await output.Body?.transformToString("utf-8")) ?? "";
      // a batch cut short keeps its partial last line, which verification reports as malformed
      return (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
    } catch (error) {
      if (isNotFound(error)) throw new StoreIntegrityError(streamId, seqOfKey(key), key, "a listed batch object is gone");
      throw unavailable("read", streamId, error);
    }
  }

  async function freshHead(streamId: string): Promise<StreamHead | undefined> {
    const known = heads.get(streamId);
    let lastKey: string | undefined;
    for await (const key of listKeys(streamId, known?.key)) lastKey = key;
    if (lastKey === undefined) return known?.head;
    const lines = await getLines(streamId, lastKey);
    const seq = seqOfKey(lastKey) + lines.length - 1;
    const hash = sealedLineHash(lines[lines.length - 1] ?? "");
    if (hash === undefined) throw new StoreIntegrityError(streamId, seq, lastKey, "the last record is not a sealed line");
    const head = { seq, hash };
    heads.set(streamId, { key: lastKey, head });
    return head;
  }

  // A lost race: the rival's batch is at `key`. Fetching it by key tells the loser the head it
  // lost to (a batch boundary, so its retry can PUT without listing first), and the catch-up read
  // that follows is served from it: a lost race costs one GET, not a LIST and a GET.
  async function lostTo(streamId: string, expectedSeq: number, key: string, cause: unknown): Promise<StreamConflictError> {
    let lines: string[];
    try {
      lines = await getLines(streamId, key);
    } catch {
      return new StreamConflictError(streamId, expectedSeq, undefined, { cause });
    }
    const seq = expectedSeq + lines.length;
    const hash = sealedLineHash(lines[lines.length - 1] ?? "");
    if (hash === undefined) return new StreamConflictError(streamId, expectedSeq, undefined, { cause });
    // the end of a batch is a batch boundary: the next append may build on it
    heads.set(streamId, { key, head: { seq, hash } });
    beaten.set(streamId, { key, firstSeq: expectedSeq + 1, lines });
    return new StreamConflictError(streamId, expectedSeq, seq, { cause });
  }

  async function putIfAbsent(key: string, body: string): Promise<void> {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: "*", ContentType: "application/x-ndjson" }),
    );
  }

  // What a read from `fromSeq` fetches, in seq order: the segments that cover it when it starts far
  // behind the head, then the batches after them; undefined when nothing is at or after fromSeq.
  async function objectsFrom(
    streamId: string,
    fromSeq: number,
    authoritative: boolean,
  ): Promise<AsyncIterator<{ key: string; firstSeq: number; segment?: SegmentRange }> | undefined> {
    const batchesAfter = async function* (keys: AsyncIterable<string>) {
      for await (const key of keys) yield { key, firstSeq: seqOfKey(key) };
    };
    const known = heads.get(streamId)?.head.seq;
    const farBehind = segmentRecords > 0 && !authoritative && (known === undefined || fromSeq + segmentRecords <= known + 1);
    const chain = farBehind ? await segmentsOf(streamId) : [];
    const chainEnd = chain[chain.length - 1]?.last ?? 0;
    if (fromSeq <= chainEnd) {
      return (async function* () {
        for (const range of chain) if (range.last >= fromSeq) yield { key: range.key, firstSeq: range.first, segment: range };
        yield* batchesAfter(listKeys(streamId, keyOf(streamId, chainEnd)));
      })();
    }
    // Readers catching up (a ledger's refresh) ask from just after a batch they already hold,
    // which is exactly a key: list from there instead of from the start of the stream.
    if (fromSeq > 1) {
      const tail = listKeys(streamId, keyOf(streamId, fromSeq - 1));
      const first = await tail.next();
      if (first.done) {
        if (fromSeq > (known ?? Number.POSITIVE_INFINITY)) return undefined;
      } else if (seqOfKey(first.value) === fromSeq) {
        return batchesAfter(
          (async function* () {
            yield first.value;
            yield* tail;
          })(),
        );
      }
    }
    return batchesAfter(listKeys(streamId));
  }

  // A segment's lines as they arrive (see LineFeed); a segment deleted since it was listed (always
  // allowed: it is a cache) is read from the batches it copied instead.
  function segmentFeed(streamId: string, segment: SegmentRange): LineFeed {
    return LineFeed.of(async () => {
      let body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
      try {
        const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: segment.key }));
        body = (output.Body ?? []) as AsyncIterable<Uint8Array>;
      } catch (error) {
        if (!isNotFound(error)) throw unavailable("read", streamId, error);
        chains.delete(streamId);
        const keys: string[] = [];
        for await (const key of listKeys(streamId, keyOf(streamId, segment.first - 1))) {
          if (seqOfKey(key) > segment.last) break;
          keys.push(key);
        }
        const lines = (await inParallel(keys, concurrency, (key) => getLines(streamId, key))).flat();
        body = [new TextEncoder().encode(`${lines.join("\n")}\n`)];
      }
      return (async function* () {
        try {
          yield* body;
        } catch (error) {
          throw unavailable("read", streamId, error); // the transfer broke off
        }
      })();
    });
  }

  // maps keys to results with at most `limit` in flight, results in key order
  async function inParallel<T>(keys: readonly string[], limit: number, work: (key: string) => T | Promise<T>): Promise<T[]> {
    const results: T[] = new Array(keys.length);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const index = next++;
        results[index] = await work(keys[index] as string);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, keys.length) }, worker));
    return results;
  }

  // Compaction (see `segmentRecords`). The batches this store appended are kept, by key, until a
  // segment covers them, so compacting one's own batches needs no GET; a rival's are fetched.
  const written = new Map<string, string[]>();
  let writtenLines = 0;
  const forget = (key: string) => {
    writtenLines -= written.get(key)?.length ?? 0;
    written.delete(key);
  };
  const remember = (key: string, lines: string[]) => {
    if (segmentRecords === 0) return;
    written.set(key, lines);
    writtenLines += lines.length;
    for (const oldest of written.keys()) {
      if (writtenLines <= 2 * segmentRecords) break;
      forget(oldest);
    }
  };
  const compactions = new Map<string, Promise<void>>();
  const appendedSinceCheck = new Map<string, number>();
  function compactSoon(streamId: string, appended: number): void {
    if (segmentRecords === 0) return;
    const count = (appendedSinceCheck.get(streamId) ?? 0) + appended;
    appendedSinceCheck.set(streamId, count);
    if (count < Math.ceil(segmentRecords / 10) || compactions.has(streamId)) return;
    appendedSinceCheck.set(streamId, 0);
    const run = compact(streamId)
      .catch((error: unknown) => options.onCompactionError?.(error))
      .finally(() => compactions.delete(streamId));
    compactions.set(streamId, run);
  }
  async function compact(streamId: string): Promise<void> {
    // one segment at a time; a store being closed stops after the one under way
    while (!closing) {
      const chain = await segmentsOf(streamId);
      const after = chain[chain.length - 1]?.last ?? 0;
      // the batch keys after the chain, until one ends a full segment
      const keys: string[] = [];
      const starts: number[] = [];
      let plan: ReturnType<typeof nextSegment>;
      for await (const key of listKeys(streamId, keyOf(streamId, after))) {
        keys.push(key);
        starts.push(seqOfKey(key));
        plan = nextSegment(after, starts, segmentRecords);
        if (plan) break;
      }
      if (!plan) return;
      const batches = keys.slice(0, plan.batches);
      const bodies = await inParallel(batches, concurrency, (key) => written.get(key) ?? getLines(streamId, key));
      // a batch that does not fill its range is damage for verification to name, never copied into a segment
      const ends = [...starts.slice(1, plan.batches), plan.last + 1];
      if (bodies.some((lines, index) => lines.length !== (ends[index] as number) - (starts[index] as number))) return;
      const key = `${segmentPrefix(streamId)}${rangeName(plan.first, plan.last, RECORDS_SUFFIX)}`;
      try {
        await putIfAbsent(key, `${bodies.flat().join("\n")}\n`);
      } catch (error) {
        // another compactor wrote this very segment: the same lines, so as good as ours
        if (!isPreconditionFailed(error) && !isConditionalConflict(error)) throw unavailable("compact", streamId, error);
      }
      const known = chains.get(streamId) ?? { ranges: [], chain: [] };
      const ranges = [...known.ranges, { key, first: plan.first, last: plan.last }];
      chains.set(streamId, { ranges, chain: segmentChain(ranges) });
      for (const batch of batches) forget(batch);
    }
  }

  const store: S3EventStore = {
    async append(request: AppendRequest): Promise<StreamHead> {
      assertOpen();
      checkAppendRequest(request);
      const { streamId, expectedSeq, records } = request;
      if (options.requireConditionalWrites) {
        const { enforced } = await store.probeConditionalWrites();
        if (!enforced) {
          throw new StoreUnavailableError(ADAPTER, "append", streamId, {
            cause: new Error(`bucket ${bucket} does not enforce conditional writes (If-None-Match): refusing to write`),
          });
        }
      }
      // A head this store saw is a batch boundary, so when the caller builds on it the conditional
      // PUT of the next key alone decides the race (a rival's batch there answers 412). Any other
      // expectedSeq is checked against a fresh listing first, so a caller ahead of the head cannot
      // leave a gap.
      const cached = heads.get(streamId)?.head.seq;
      if (cached !== expectedSeq) {
        const head = await freshHead(streamId);
        if ((head?.seq ?? 0) !== expectedSeq) throw new StreamConflictError(streamId, expectedSeq, head?.seq ?? 0);
      }
      const key = keyOf(streamId, expectedSeq + 1);
      const body = `${records.map((r) => r.line).join("\n")}\n`;
      for (let attempt = 0; ; attempt++) {
        try {
          await putIfAbsent(key, body);
          break;
        } catch (error) {
          if (isPreconditionFailed(error)) throw await lostTo(streamId, expectedSeq, key, error);
          if (isConditionalConflict(error)) {
            if (attempt >= retries) throw new StreamConflictError(streamId, expectedSeq, undefined, { cause: error });
            // jittered backoff: the racing writer's PUT settles, then ours wins or gets its 412
            await sleep(2 ** attempt * 10 * (0.5 + Math.random()));
            continue;
          }
          throw unavailable("append", streamId, error);
        }
      }
      const last = records[records.length - 1] as (typeof records)[0];
      const newHead = { seq: last.seq, hash: last.hash };
      heads.set(streamId, { key, head: newHead });
      remember(
        key,
        records.map((r) => r.line),
      );
      compactSoon(streamId, records.length);
      return newHead;
    },

    async *read(streamId: string, readOptions?: ReadOptions): AsyncIterable<StoredRecord> {
      assertOpen();
      parseStreamId(streamId);
      const fromSeq = readOptions?.fromSeq ?? 1;
      const rival = beaten.get(streamId);
      beaten.delete(streamId);
      if (rival && rival.firstSeq === fromSeq) {
        // catching up after a lost race: the batch that won is in hand; later ones are listed lazily
        for (const [index, line] of rival.lines.entries()) yield new S3Record(fromSeq + index, line, rival.key, index + 1);
        yield* store.read(streamId, { fromSeq: fromSeq + rival.lines.length });
        return;
      }
      const objects = await objectsFrom(streamId, fromSeq, readOptions?.authoritative === true);
      if (!objects) return; // nothing at or after fromSeq
      // objects stream in, are fetched ahead with bounded parallelism, records leave in order; at
      // most two segments are in hand at once (one being read, the next arriving), since each holds
      // `segmentRecords` records where a batch holds a few
      const window: { key: string; firstSeq: number; lines: Promise<string[]> | LineFeed }[] = [];
      const room = () => window.length < concurrency && !window.some((object) => object.lines instanceof LineFeed);
      const fill = async (): Promise<boolean> => {
        const next = await objects.next();
        if (next.done) return false;
        const { key, firstSeq, segment } = next.value;
        let lines: Promise<string[]> | LineFeed;
        if (segment) lines = segmentFeed(streamId, segment);
        else {
          lines = getLines(streamId, key);
          lines.catch(() => undefined); // surfaced when its turn comes
        }
        window.push({ key, firstSeq, lines });
        return true;
      };
      let more = true;
      while (more && room()) more = await fill();
      while (window.length > 0) {
        const { key, firstSeq, lines } = window.shift() as (typeof window)[0];
        while (more && room()) more = await fill();
        // every line is yielded as stored, whatever the keys say: a missing or overlapping batch shows
        // in the records' own seqs, and verification names the exact record
        const next = window[0];
        // this object ends before fromSeq; its size is known from the next one's start without reading it
        if (next !== undefined && next.firstSeq <= fromSeq) continue;
        let index = 0;
        const record = (line: string) => {
          assertOpen();
          const seq = firstSeq + index++;
          return seq >= fromSeq ? new S3Record(seq, line, key, index) : undefined;
        };
        // a batch is in hand whole; a segment's lines are taken as they arrive
        if (lines instanceof LineFeed) {
          for await (const line of lines) {
            const taken = record(line);
            if (taken) yield taken;
          }
        } else {
          for (const line of await lines) {
            const taken = record(line);
            if (taken) yield taken;
          }
        }
      }
    },

    async head(streamId: string): Promise<StreamHead | undefined> {
      assertOpen();
      parseStreamId(streamId);
      return freshHead(streamId);
    },

    async putSnapshot(streamId: string, snapshot: StoredSnapshot): Promise<void> {
      assertOpen();
      parseStreamId(streamId);
      const key = snapshotKey(streamId, snapshot.seq);
      try {
        // a PUT is atomic: a reader gets the old body, the new one or none, never a part
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: snapshot.body, ContentType: "application/json" }));
        for (const old of (await snapshotKeys(streamId)).slice(KEPT_SNAPSHOTS)) {
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: old }));
        }
      } catch (error) {
        throw unavailable("putSnapshot", streamId, error);
      }
    },

    async *snapshots(streamId: string): AsyncIterable<StoredSnapshot> {
      assertOpen();
      parseStreamId(streamId);
      for (const key of await snapshotKeys(streamId)) {
        let body: string;
        try {
          const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          body = (await output.Body?.transformToString("utf-8")) ?? "";
        } catch (error) {
          if (isNotFound(error)) continue; // pruned since the listing
          throw unavailable("snapshots", streamId, error);
        }
        yield { seq: seqOfKey(key, SNAPSHOT_SUFFIX), body };
      }
    },

    async *listStreams(): AsyncIterable<string> {
      assertOpen();
      const ids: string[] = [];
      for await (const page of listPages({ Prefix: prefix, Delimiter: "/" }, "listStreams", undefined)) {
        for (const common of page.CommonPrefixes ?? []) {
          const id = (common.Prefix ?? "").slice(prefix.length, -1);
          try {
            parseStreamId(id);
            ids.push(id);
          } catch {
            // not a stream of ours (the probe key's folder, foreign objects)
          }
        }
      }
      yield* ids.sort();
    },

    probeConditionalWrites() {
      probe ??= (async () => {
        const key = `${prefix}.opsledger-probe/${randomUUID()}`;
        try {
          await putIfAbsent(key, "probe\n");
          try {
            await putIfAbsent(key, "probe\n");
            return { enforced: false };
          } catch (error) {
            if (isPreconditionFailed(error) || isConditionalConflict(error)) return { enforced: true };
            throw unavailable("probe", undefined, error);
          }
        } catch (error) {
          throw unavailable("probe", undefined, error);
        } finally {
          await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
        }
      })();
      probe.catch(() => {
        probe = undefined; // a failed probe is retried next time
      });
      return probe;
    },

    async close(): Promise<void> {
      // a compaction under way finishes the segment it is writing first: the client is the caller's, who destroys it next
      closing = true;
      await Promise.all(compactions.values());
      closed = true;
    },
  };
  return store;
}
