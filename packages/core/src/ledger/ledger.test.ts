import { describe, expect, it } from "vitest";
import { GENESIS_HASH } from "../chain/hash.ts";
import { seal } from "../chain/seal.ts";
import { isOpsledgerError } from "../errors.ts";
import type { NewEvent } from "../events/catalogue.ts";
import type { EventStore } from "../store/event-store.ts";
import { createMemoryEventStore, tamperMemoryRecord } from "../store/memory-store.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { openLedger, replay } from "./ledger.ts";

const T0 = "2026-03-01T00:00:00.000Z";

describe("openLedger", () => {
  it("writes LedgerCreated once, on init, with the injected clock and ids", async () => {
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds("evt") });
    const result = await ledger.init();
    const emitted: unknown[] = [];
    for await (const record of store.read("default")) emitted.push((JSON.parse(record.line) as { record: unknown }).record);
    const state = ledger.state();
    expect(result).toEqual({ created: true, seq: 1 });
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({
      v: 1,
      ledger: "default",
      seq: 1,
      id: "evt-000001",
      type: "LedgerCreated",
      at: T0,
      prevHash: "0".repeat(64),
      data: { fleetId: "default", format: "opsledger/v1", hash: "sha256", canonicalization: "fast-json-stable-stringify@2" },
    });
    expect(state).toMatchObject({ seq: 1, createdAt: T0, lastEventAt: T0 });
  });

  it("does nothing on a second init", async () => {
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds() });
    await ledger.init();
    expect(await ledger.init()).toEqual({ created: false, seq: 1 });
    expect((await store.head("default"))?.seq).toBe(1);
  });

  it("produces the same bytes for the same commands, clock and ids (determinism)", async () => {
    const run = async () => {
      const store = createMemoryEventStore();
      const ledger = await openLedger({ store, fleetId: "fleet-a", clock: fixedClock(T0, 1000), ids: sequentialIds() });
      await ledger.init();
      return store.head("fleet-a");
    };
    expect(await run()).toEqual(await run());
  });

  it("rejects an event the catalogue does not know, appending nothing", async () => {
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds() });
    const bogus = { type: "Nope", data: {} } as unknown as NewEvent;
    const error = await ledger.execute(() => ({ events: [bogus], result: 1 })).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "INVALID_EVENT")).toBe(true);
    expect((error as Error).message).toContain('unknown event type "Nope"');
    expect(await store.head("default")).toBeUndefined();
  });

  it("rejects invalid event data with every issue and its path", async () => {
    const ledger = await openLedger({ store: createMemoryEventStore(), clock: fixedClock(T0), ids: sequentialIds() });
    const bad = { type: "LedgerCreated", data: { fleetId: "", format: "v0" } } as unknown as NewEvent;
    const error = await ledger.execute(() => ({ events: [bad], result: 1 })).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "INVALID_EVENT")).toBe(true);
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
      "data.canonicalization",
      "data.fleetId",
      "data.format",
      "data.hash",
    ]);
  });

  it("refuses a fleet id that is not a safe stream id", async () => {
    const error = await openLedger({ store: createMemoryEventStore(), fleetId: "../etc" }).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "INVALID_STREAM_ID")).toBe(true);
  });

  // any event the catalogue accepts will do to exercise the retry loop
  const probe: NewEvent = {
    type: "LedgerCreated",
    data: { fleetId: "default", format: "opsledger/v1", hash: "sha256", canonicalization: "fast-json-stable-stringify@2" },
  };

  // a store whose appends are each preceded by a rival's append of one record, `races` times
  const racingStore = (races: number) => {
    const store = createMemoryEventStore();
    let raced = 0;
    const rivalAppend = async (): Promise<void> => {
      const head = await store.head("default");
      const record = seal({
        v: 1,
        ledger: "default",
        seq: (head?.seq ?? 0) + 1,
        id: `rival-${raced}`,
        type: "RivalProbe",
        at: T0,
        data: {},
        prevHash: head?.hash ?? GENESIS_HASH,
      });
      await store.append({ streamId: "default", expectedSeq: head?.seq ?? 0, records: [record] });
    };
    const racing: EventStore = {
      ...store,
      append: async (request) => {
        if (raced++ < races) await rivalAppend();
        return store.append(request);
      },
    };
    return { store, racing, appends: () => raced };
  };

  it("re-reads, re-folds and re-decides when another writer appended first", async () => {
    const { racing } = racingStore(2);
    const ledger = await openLedger({ store: racing, clock: fixedClock(T0), ids: sequentialIds() });
    const seen: number[] = [];
    const result = await ledger.execute((state) => {
      seen.push(state.seq);
      return { events: [probe], result: "done" };
    });
    expect(result).toBe("done");
    // decided on an empty ledger, then after one rival record, then after two
    expect(seen).toEqual([0, 1, 2]);
    expect(ledger.head()?.seq).toBe(3);
    expect((await ledger.verify()).ok).toBe(true);
  });

  it("gives up with STREAM_CONFLICT once its retry budget is spent, having retried with backoff until then", async () => {
    const { racing, appends } = racingStore(Number.POSITIVE_INFINITY);
    // the budget is what this test is about: a small one, so losing every race ends quickly
    const ledger = await openLedger({ store: racing, retry: { budgetMs: 50 }, clock: fixedClock(T0), ids: sequentialIds() });
    const error = await ledger.execute(() => ({ events: [probe], result: 1 })).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "STREAM_CONFLICT")).toBe(true);
    expect(appends()).toBeGreaterThan(2);
  });

  it("refuses to open a ledger whose log was tampered with", async () => {
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds() });
    await ledger.init();
    tamperMemoryRecord(store, "default", 1, (line) => line.replace("opsledger/v1", "opsledger/v2"));
    const error = await openLedger({ store }).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "CHAIN_INTEGRITY")).toBe(true);
    expect(error).toMatchObject({ seq: 1, kind: "hash_mismatch" });
    expect((await ledger.verify()).breaks[0]).toMatchObject({ seq: 1, kind: "hash_mismatch" });
  });
});

describe("replay", () => {
  it("folds a prefix of the log up to a seq or a time", async () => {
    const store = createMemoryEventStore();
    const clock = fixedClock(T0);
    const ledgers = await Promise.all(["x", "y"].map((fleetId) => openLedger({ store, fleetId, clock, ids: sequentialIds(fleetId) })));
    await ledgers[0]?.init();
    clock.advance(60_000);
    await ledgers[1]?.init();
    expect(await replay(store, "x", { until: { seq: 1 } })).toMatchObject({ seq: 1, createdAt: T0 });
    expect(await replay(store, "y", { until: { at: T0 } })).toMatchObject({ seq: 0, createdAt: null });
    expect(await replay(store, "y", { until: { at: "2026-03-01T00:01:00Z" } })).toMatchObject({ seq: 1 });
    expect(await replay(store, "y")).toMatchObject({ seq: 1, lastEventAt: "2026-03-01T00:01:00.000Z" });
  });

  it("refuses a time it cannot read", async () => {
    await expect(replay(createMemoryEventStore(), "x", { until: { at: "yesterday" } })).rejects.toThrow(/not a time/);
  });
});
