import { type Envelope, type EventStore, GENESIS_HASH, isOpsledgerError, type SealedRecord, seal, verifyLog } from "@opsledger/core";
import { afterEach, describe, expect, it } from "vitest";

/** How a store enrols in the contract. */
export interface ContractHarness {
  /** A fresh, empty store isolated from every other test (its own temp dir, its own key prefix). */
  create(): Promise<EventStore>;
  /** Rewrites one stored record's raw line behind the store's back, to prove reads are verbatim. */
  tamper(store: EventStore, streamId: string, seq: number, edit: (line: string) => string): Promise<void>;
  /** Cases this adapter does not pass yet: each needs a reason and an issue link. No other knob exists. */
  readonly knownGaps?: ReadonlyArray<{ readonly test: string; readonly reason: string; readonly issue: string }>;
}

/** Builds `count` sealed records of a stream, chained from `after` (or the genesis). */
export function makeRecords(
  streamId: string,
  count: number,
  options: { after?: Pick<SealedRecord, "seq" | "hash"> | undefined; payload?: (seq: number) => unknown } = {},
): [SealedRecord, ...SealedRecord[]] {
  const records: SealedRecord[] = [];
  let prevHash = options.after?.hash ?? GENESIS_HASH;
  const first = (options.after?.seq ?? 0) + 1;
  for (let seq = first; seq < first + count; seq++) {
    const envelope: Envelope<unknown> = {
      v: 1,
      ledger: streamId,
      seq,
      id: `id-${seq}`,
      type: "ContractProbe",
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString(),
      data: options.payload ? options.payload(seq) : { seq },
      prevHash,
    };
    const record = seal(envelope);
    records.push(record);
    prevHash = record.hash;
  }
  return records as [SealedRecord, ...SealedRecord[]];
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const last = (records: readonly SealedRecord[]): SealedRecord => records[records.length - 1] as SealedRecord;

/**
 * Registers the event-store contract for one adapter: the port's semantics as tests, every case
 * for every store. A case listed in `knownGaps` is registered as skipped with its reason and issue.
 */
export function describeEventStoreContract(adapter: string, harness: ContractHarness): void {
  const gaps = new Map((harness.knownGaps ?? []).map((gap) => [gap.test, gap]));
  const opened: EventStore[] = [];
  const fresh = async (): Promise<EventStore> => {
    const store = await harness.create();
    opened.push(store);
    return store;
  };
  const contract = (name: string, body: () => Promise<void>, timeout?: number): void => {
    const gap = gaps.get(name);
    if (gap) it.skip(`${name} [known gap: ${gap.reason} — ${gap.issue}]`, body);
    else it(name, body, timeout);
  };

  describe(`event store contract: ${adapter}`, () => {
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    contract("yields nothing and has no head for an unknown stream", async () => {
      const store = await fresh();
      expect(await collect(store.read("nobody"))).toEqual([]);
      expect(await store.head("nobody")).toBeUndefined();
    });

    contract("appends to a new stream with expectedSeq 0 and returns the new head", async () => {
      const store = await fresh();
      const records = makeRecords("s1", 3);
      const head = await store.append({ streamId: "s1", expectedSeq: 0, records });
      expect(head).toEqual({ seq: 3, hash: last(records).hash });
      expect(await store.head("s1")).toEqual(head);
    });

    contract("round-trips every line byte for byte, including non-ASCII and large payloads", async () => {
      const store = await fresh();
      const big = "x".repeat(256 * 1024);
      const records = makeRecords("bytes", 4, {
        payload: (seq) => [{ text: "héllo wörld ✓ 日本語 🚀" }, { big }, { quote: '"\\\u0001\u2028' }, { seq }][seq - 1],
      });
      await store.append({ streamId: "bytes", expectedSeq: 0, records });
      const read = await collect(store.read("bytes"));
      expect(read.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
      expect(read.map((r) => r.line)).toEqual(records.map((r) => r.line));
    });

    contract("continues a stream from its head and reads from fromSeq", async () => {
      const store = await fresh();
      const first = makeRecords("s", 2);
      await store.append({ streamId: "s", expectedSeq: 0, records: first });
      const second = makeRecords("s", 3, { after: last(first) });
      expect(await store.append({ streamId: "s", expectedSeq: 2, records: second })).toEqual({ seq: 5, hash: last(second).hash });
      const read = await collect(store.read("s", { fromSeq: 3 }));
      expect(read.map((r) => r.seq)).toEqual([3, 4, 5]);
      expect(read.map((r) => r.line)).toEqual(second.map((r) => r.line));
      expect(await collect(store.read("s", { fromSeq: 6 }))).toEqual([]);
      // what verification reads: the records themselves, the same records
      const authoritative = await collect(store.read("s", { fromSeq: 3, authoritative: true }));
      expect(authoritative.map((r) => [r.seq, r.line])).toEqual(read.map((r) => [r.seq, r.line]));
    });

    contract("rejects a stale expectedSeq with STREAM_CONFLICT and leaves the stream unchanged", async () => {
      const store = await fresh();
      const records = makeRecords("s", 2);
      await store.append({ streamId: "s", expectedSeq: 0, records });
      const stale = makeRecords("s", 1);
      const error = await store.append({ streamId: "s", expectedSeq: 0, records: stale }).catch((e: unknown) => e);
      expect(isOpsledgerError(error, "STREAM_CONFLICT")).toBe(true);
      const ahead = makeRecords("s", 1, { after: makeRecords("s", 5)[4] });
      const aheadError = await store.append({ streamId: "s", expectedSeq: 5, records: ahead }).catch((e: unknown) => e);
      expect(isOpsledgerError(aheadError, "STREAM_CONFLICT")).toBe(true);
      expect(await store.head("s")).toEqual({ seq: 2, hash: last(records).hash });
      expect((await collect(store.read("s"))).map((r) => r.line)).toEqual(records.map((r) => r.line));
    });

    contract("lets exactly one of two concurrent appends on the same head win", async () => {
      const store = await fresh();
      const base = makeRecords("race", 1);
      await store.append({ streamId: "race", expectedSeq: 0, records: base });
      const a = makeRecords("race", 2, { after: base[0], payload: () => ({ writer: "a" }) });
      const b = makeRecords("race", 3, { after: base[0], payload: () => ({ writer: "b" }) });
      const results = await Promise.allSettled([
        store.append({ streamId: "race", expectedSeq: 1, records: a }),
        store.append({ streamId: "race", expectedSeq: 1, records: b }),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(isOpsledgerError(lost[0]?.reason, "STREAM_CONFLICT")).toBe(true);
      const winner = results[0]?.status === "fulfilled" ? a : b;
      const lines = (await collect(store.read("race"))).map((r) => r.line);
      expect(lines).toEqual([base[0].line, ...winner.map((r) => r.line)]);
      expect((await verifyLog(store, "race")).ok).toBe(true);
    });

    contract("never exposes part of a rejected batch", async () => {
      const store = await fresh();
      const base = makeRecords("batch", 2);
      await store.append({ streamId: "batch", expectedSeq: 0, records: base });
      const batch = makeRecords("batch", 50, { after: base[0] });
      await expect(store.append({ streamId: "batch", expectedSeq: 1, records: batch })).rejects.toSatisfy((e) =>
        isOpsledgerError(e, "STREAM_CONFLICT"),
      );
      const broken = makeRecords("batch", 3, { after: last(base) });
      const gapped = [broken[0], broken[2]] as unknown as [SealedRecord, ...SealedRecord[]];
      await expect(store.append({ streamId: "batch", expectedSeq: 2, records: gapped })).rejects.toSatisfy((e) =>
        isOpsledgerError(e, "INVALID_APPEND"),
      );
      expect((await collect(store.read("batch"))).map((r) => r.line)).toEqual(base.map((r) => r.line));
      expect(await store.head("batch")).toEqual({ seq: 2, hash: last(base).hash });
    });

    contract(
      "reads from fromSeq in ascending order across more than 1,000 records",
      async () => {
        const store = await fresh();
        let after: SealedRecord | undefined;
        const all: SealedRecord[] = [];
        for (let batch = 0; batch < 12; batch++) {
          const records = makeRecords("long", 100, after ? { after } : {});
          await store.append({ streamId: "long", expectedSeq: all.length, records });
          all.push(...records);
          after = last(records);
        }
        // and single-record batches, so reads cross many objects in batch-per-object stores
        for (let i = 0; i < 30; i++) {
          const records = makeRecords("long", 1, { after: last(all) });
          await store.append({ streamId: "long", expectedSeq: all.length, records });
          all.push(...records);
        }
        const read = await collect(store.read("long"));
        expect(read.map((r) => r.seq)).toEqual(all.map((r) => r.seq));
        expect(read.map((r) => r.line)).toEqual(all.map((r) => r.line));
        const tail = await collect(store.read("long", { fromSeq: 1150 }));
        expect(tail.map((r) => r.seq)).toEqual(all.slice(1149).map((r) => r.seq));
        expect((await verifyLog(store, "long")).ok).toBe(true);
      },
      120_000,
    );

    contract("lists each stream exactly once, in ascending order", async () => {
      const store = await fresh();
      for (const id of ["b-2", "a.1", "C_3", "a.1-x"]) {
        const records = makeRecords(id, 2);
        await store.append({ streamId: id, expectedSeq: 0, records: [records[0]] });
        await store.append({ streamId: id, expectedSeq: 1, records: [records[1] as SealedRecord] });
      }
      expect(await collect(store.listStreams())).toEqual(["C_3", "a.1", "a.1-x", "b-2"]);
    });

    contract("refuses stream ids that could escape the store's namespace", async () => {
      const store = await fresh();
      const hostile = ["", "..", "../x", "a/b", "a\\b", "a\u0000b", "/abs", "x".repeat(129), ".hidden", "a..b", "a b", "%2e%2e"];
      for (const id of hostile) {
        const records = makeRecords("ok", 1);
        const error = await store.append({ streamId: id, expectedSeq: 0, records }).catch((e: unknown) => e);
        expect(isOpsledgerError(error, "INVALID_STREAM_ID"), JSON.stringify(id)).toBe(true);
        const readError = await collect(store.read(id)).catch((e: unknown) => e);
        expect(isOpsledgerError(readError, "INVALID_STREAM_ID"), JSON.stringify(id)).toBe(true);
        await expect(store.head(id)).rejects.toSatisfy((e) => isOpsledgerError(e, "INVALID_STREAM_ID"));
        const putError = await store.putSnapshot(id, { seq: 1, body: "{}" }).catch((e: unknown) => e);
        expect(isOpsledgerError(putError, "INVALID_STREAM_ID"), JSON.stringify(id)).toBe(true);
        const snapshotsError = await collect(store.snapshots(id)).catch((e: unknown) => e);
        expect(isOpsledgerError(snapshotsError, "INVALID_STREAM_ID"), JSON.stringify(id)).toBe(true);
      }
      expect(await collect(store.listStreams())).toEqual([]);
    });

    contract("surfaces a tampered record through verifyLog at the right seq", async () => {
      const store = await fresh();
      const records = makeRecords("t", 10);
      await store.append({ streamId: "t", expectedSeq: 0, records });
      expect((await verifyLog(store, "t")).ok).toBe(true);
      await harness.tamper(store, "t", 6, (line) => line.replace('"seq":6}', '"seq":7}'));
      const report = await verifyLog(store, "t");
      expect(report.ok).toBe(false);
      expect(report.breaks[0]).toMatchObject({ seq: 6, kind: "hash_mismatch" });
      const read = await collect(store.read("t"));
      expect(read[5]?.line).toContain('"seq":7}');
    });

    contract("keeps snapshots apart from records: newest first, byte for byte, the two newest at least", async () => {
      const store = await fresh();
      expect(await collect(store.snapshots("snap"))).toEqual([]);
      const body = (seq: number) => `{"seq":${seq},"text":"héllo ✓ 日本語 🚀","big":"${"x".repeat(512 * 1024)}"}\nsha256:${seq}`;
      for (const seq of [5, 10, 7]) await store.putSnapshot("snap", { seq, body: body(seq) });
      const kept = await collect(store.snapshots("snap"));
      expect(kept.slice(0, 2)).toEqual([
        { seq: 10, body: body(10) },
        { seq: 7, body: body(7) },
      ]);
      expect(kept.map((snapshot) => snapshot.seq)).toEqual([...kept.map((snapshot) => snapshot.seq)].sort((a, b) => b - a));
      // a snapshot is not a record: no stream, no head, nothing to read
      expect(await collect(store.read("snap"))).toEqual([]);
      expect(await store.head("snap")).toBeUndefined();
      expect(await collect(store.listStreams())).toEqual([]);
      // and records do not disturb snapshots of their stream
      await store.append({ streamId: "snap", expectedSeq: 0, records: makeRecords("snap", 3) });
      expect((await collect(store.snapshots("snap")))[0]).toEqual({ seq: 10, body: body(10) });
      expect(await collect(store.snapshots("other"))).toEqual([]);
    });

    contract("replaces a snapshot at the same seq and never shows part of one", async () => {
      const store = await fresh();
      await store.putSnapshot("snap", { seq: 3, body: "first" });
      await store.putSnapshot("snap", { seq: 3, body: "second" });
      expect(await collect(store.snapshots("snap"))).toEqual([{ seq: 3, body: "second" }]);
      const big = (tag: string) => tag.repeat(4 * 1024 * 1024);
      const writes = Promise.all([4, 5, 6].map((seq) => store.putSnapshot("snap", { seq, body: big(String(seq)) })));
      let written = false;
      void writes.then(() => {
        written = true;
      });
      do {
        for (const snapshot of await collect(store.snapshots("snap"))) {
          expect(snapshot.body === "second" || snapshot.body === big(String(snapshot.seq)), `whole body at seq ${snapshot.seq}`).toBe(true);
        }
      } while (!written);
      await writes;
      expect((await collect(store.snapshots("snap"))).slice(0, 2).map((snapshot) => snapshot.seq)).toEqual([6, 5]);
    });

    contract("closes idempotently and rejects use after close with STORE_CLOSED", async () => {
      const store = await fresh();
      await store.append({ streamId: "c", expectedSeq: 0, records: makeRecords("c", 1) });
      await store.close();
      await store.close();
      const closed = (e: unknown): boolean => isOpsledgerError(e, "STORE_CLOSED");
      await expect(store.append({ streamId: "c", expectedSeq: 1, records: makeRecords("c", 1) })).rejects.toSatisfy(closed);
      await expect(store.head("c")).rejects.toSatisfy(closed);
      await expect(collect(store.read("c"))).rejects.toSatisfy(closed);
      await expect(collect(store.listStreams())).rejects.toSatisfy(closed);
      await expect(store.putSnapshot("c", { seq: 1, body: "{}" })).rejects.toSatisfy(closed);
      await expect(collect(store.snapshots("c"))).rejects.toSatisfy(closed);
    });
  });
}
