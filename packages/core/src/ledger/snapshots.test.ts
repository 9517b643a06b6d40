import { describe, expect, it } from "vitest";
import { followChain } from "../chain/follow.ts";
import { sha256Hex } from "../chain/hash.ts";
import { sealedLineHead } from "../chain/seal.ts";
import { StoreUnavailableError } from "../errors.ts";
import type { Dispatcher } from "../fleet/dispatch.ts";
import { evolve, type LedgerState } from "../fleet/ledger-state.ts";
import { MerkleFrontier, recordLeaf } from "../proof/merkle.ts";
import { parseSignerKey, signingKeyFromSeed } from "../proof/note.ts";
import type { EventStore, StoredSnapshot } from "../store/event-store.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { seededRandom } from "../testing/determinism.ts";
import { fleetStateDocument, guardedRegistry, operator } from "../testing/fixtures.ts";
import { openLedger, replay } from "./ledger.ts";
import { decodeSnapshot, encodeSnapshot, FOLD_VERSION, verifySnapshots } from "./snapshots.ts";

const T0 = "2026-03-01T00:00:00.000Z";
const KEY = signingKeyFromSeed("opsledger/default", new Uint8Array(32).fill(3));
const LOOPS = ["loop-a", "loop-b", "loop-c", "loop-d", "loop-e"];

// a log with every kind of event the fold handles: policy changes, observations, evaluations,
// dispatches with every outcome, kill switch, pauses, auto-pause trips and resumes, acks
async function eventfulLog(seed: number, commands: number, store: EventStore = createMemoryEventStore()) {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const clock = fixedClock(T0);
  const ledger = await openLedger({ store, clock, ids: sequentialIds(`s${seed}`), snapshots: false });
  await ledger.applyRegistry(guardedRegistry({ loops: LOOPS, maxActionsPerRun: 3, maxActionsPerLoop: 5 }));
  const dispatcher: Dispatcher = async () => {
    const roll = random();
    if (roll < 0.1) throw new Error("transport down");
    return { status: roll < 0.6 ? "confirmed" : roll < 0.8 ? "ambiguous" : "failed" };
  };
  for (let step = 0; step < commands; step++) {
    clock.advance(Math.floor(random() * 120_000));
    const roll = random();
    if (roll < 0.7) {
      // a remediation cycle: observe, evaluate, dispatch
      const results = LOOPS.map((loopId) => ({
        loopId,
        status: pick(["success", "success", "failed", "skipped"] as const),
        healthStatus: pick(["healthy", "critical", "critical", "degraded"] as const),
      }));
      await ledger.observe(fleetStateDocument(results, { traceId: `t-${step}` }));
      await ledger.evaluate();
      if (random() < 0.8) await ledger.dispatch({ mode: "autonomous", dispatcher, by: "bot" });
    } else if (roll < 0.76) {
      const { fleet } = ledger.state();
      await (fleet.killSwitch.active ? ledger.releaseKillSwitch(operator()) : ledger.engageKillSwitch(operator()));
    } else if (roll < 0.82) {
      const { fleet } = ledger.state();
      await (fleet.rolloutPause.active ? ledger.resumeRollout(operator()) : ledger.pauseRollout(operator()));
    } else if (roll < 0.88) {
      await ledger.resumeAutoPause(operator());
    } else if (roll < 0.95) {
      const guarded = (await ledger.plan()).intents.find((intent) => intent.lastOutcome && intent.lastOutcome.status !== "executed");
      if (guarded) await ledger.acknowledgeIntent(guarded.intentId, { by: "oncall", note: "checked" });
    } else {
      await ledger.applyRegistry(guardedRegistry({ loops: LOOPS, maxActionsPerRun: 1 + Math.floor(random() * 4), cooldownSeconds: 60 }));
    }
  }
  return { store, clock };
}

// the state after folding the log from `from` (a restored snapshot) to its end
async function foldOn(store: EventStore, from: LedgerState): Promise<LedgerState> {
  let state = from;
  await followChain(store, from.fleetId, from.headHash ? { seq: from.seq, hash: from.headHash, at: from.lastEventAt } : null, (e, h) => {
    state = evolve(state, e, h);
    return undefined;
  });
  return state;
}

const decoded = (stored: StoredSnapshot) => {
  const snapshot = decodeSnapshot(stored, "default");
  if ("unusable" in snapshot) throw new Error(snapshot.unusable);
  return snapshot;
};

// a store that counts the records it hands out, to see what an open read
const counting = (store: EventStore) => {
  const counter = { records: 0 };
  const wrapped: EventStore = {
    ...store,
    async *read(streamId, options) {
      for await (const record of store.read(streamId, options)) {
        counter.records++;
        yield record;
      }
    },
  };
  return { store: wrapped, counter };
};

describe("snapshots of the fold", () => {
  for (const seed of [1, 2, 3]) {
    it(`a restored snapshot at any seq folds on to the same bytes as a full fold (seed ${seed})`, async () => {
      const { store } = await eventfulLog(seed, 120);
      const full = await replay(store, "default");
      const fullBytes = encodeSnapshot(full, undefined).body;
      const types = new Set((await collectTypes(store)).values());
      for (const type of ["DispatchCompleted", "AutoPauseTripped", "AutoPauseResumed", "KillSwitchReleased", "IntentAcknowledged"])
        expect(types).toContain(type);
      for (let seq = 1; seq <= full.seq; seq += 5) {
        const at = await replay(store, "default", { until: { seq } });
        const stored = encodeSnapshot(at, undefined);
        const restored = decoded(stored).state;
        expect(encodeSnapshot(restored, undefined).body).toBe(stored.body);
        expect(encodeSnapshot(await foldOn(store, restored), undefined).body, `restored at seq ${seq}`).toBe(fullBytes);
      }
    });
  }

  it("pins the bytes of a reference snapshot: a change of the fold or the state's shape must bump FOLD_VERSION", async () => {
    const { store } = await eventfulLog(9, 30);
    const body = encodeSnapshot(await replay(store, "default"), undefined).body;
    // if this fails on purpose (evolve or LedgerState changed), bump FOLD_VERSION, then update the pin:
    // snapshots written by the old fold must not be read as the new one's
    expect({ fold: FOLD_VERSION, sha256: sha256Hex(body) }).toEqual({
      fold: "opsledger-fold/1",
      sha256: "53a8bff8b24c46b31cb9f7d3d70a94d7a62466429dafd1eb97d468e975db2ca9",
    });
  });

  it("opens from the newest usable snapshot and folds only what follows, answering as a full fold does", async () => {
    const { store, clock } = await eventfulLog(4, 450);
    const head = (await store.head("default"))?.seq ?? 0;
    expect(head).toBeGreaterThan(1000);
    const writer = await openLedger({ store, clock }); // folds everything and writes a snapshot at the head
    const stored = (await collectSnapshots(store))[0];
    expect(stored?.seq).toBe(head);
    await writer.observe(fleetStateDocument([{ loopId: "loop-a", healthStatus: "critical" }], { traceId: "after" }));
    const { store: seen, counter } = counting(store);
    const opened = await openLedger({ store: seen, clock });
    expect(counter.records).toBe(2); // the covered record, checked; then the one appended since
    const unsnapshotted = await openLedger({ store, clock, snapshots: false });
    expect(await opened.status()).toEqual(await unsnapshotted.status());
    expect(await opened.plan()).toEqual(await unsnapshotted.plan());
    expect(encodeSnapshot(opened.state(), undefined).body).toBe(encodeSnapshot(unsnapshotted.state(), undefined).body);
  });

  it("writes a snapshot every 1,000 records by default, before the command that crossed the mark resolves", async () => {
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds() });
    const seqs: number[] = [];
    for (let i = 0; i < 2100; i++) {
      const result = await ledger.observe(fleetStateDocument([{ loopId: "loop-a" }], { traceId: `t-${i}` }));
      if (result.ok && (await collectSnapshots(store))[0]?.seq === result.seq) seqs.push(result.seq);
    }
    expect(seqs).toEqual([1000, 2000]);
    expect((await collectSnapshots(store)).map((s) => s.seq)).toEqual([2000, 1000]);
  });

  it("ignores a damaged snapshot, one of another fold version, and one whose covered record the log does not hold", async () => {
    const { store, clock } = await eventfulLog(5, 40);
    const head = (await store.head("default")) as { seq: number };
    const truth = encodeSnapshot(await replay(store, "default"), undefined).body;
    const good = encodeSnapshot(await replay(store, "default"), undefined);
    const damaged = { seq: good.seq, body: good.body.replace('"killSwitch":{"active":', '"killSwitch":{"active": ') };
    const json = good.body.slice(0, good.body.lastIndexOf("\nsha256:"));
    const otherFold = json.replace(`"fold":"${FOLD_VERSION}"`, '"fold":"opsledger-fold/0"');
    const outdated = { seq: good.seq, body: `${otherFold}\nsha256:${sha256Hex(otherFold)}` };
    // a snapshot of another log of the same length: its covered record is not this log's
    const { store: otherLog } = await eventfulLog(6, 40);
    const foreign = encodeSnapshot(await replay(otherLog, "default", { until: { seq: head.seq } }), undefined);
    for (const [what, snapshot] of [
      ["damaged", damaged],
      ["another fold version", outdated],
      ["of another log", foreign],
    ] as const) {
      const copy = await copyOf(store);
      await copy.putSnapshot("default", snapshot);
      const { store: seen, counter } = counting(copy);
      const ledger = await openLedger({ store: seen, clock, snapshots: false });
      const reopened = await openLedger({ store: seen, clock });
      expect(encodeSnapshot(reopened.state(), undefined).body, what).toBe(truth);
      expect(encodeSnapshot(ledger.state(), undefined).body, what).toBe(truth);
      expect(counter.records, what).toBeGreaterThanOrEqual(2 * head.seq); // both folded from the start
    }
    expect(decodeSnapshot(damaged, "default")).toEqual({ unusable: "its bytes do not hash to its digest" });
    expect(decodeSnapshot(outdated, "default")).toMatchObject({ unusable: expect.stringContaining("opsledger-fold/0") });
    expect(decodeSnapshot(good, "other")).toMatchObject({ unusable: expect.stringContaining("other") });
    // digest recomputed over a state that is not one: refused, never thrown
    const broken = json.replace(/"intents":\[[^\]]*\]/, '"intents":5');
    expect(broken).not.toBe(json);
    expect(decodeSnapshot({ seq: good.seq, body: `${broken}\nsha256:${sha256Hex(broken)}` }, "default")).toEqual({
      unusable: "its intents is not a list of entries",
    });
  });

  it("verifySnapshots tells a forged snapshot (a state the log does not fold to, digest recomputed) from a true one", async () => {
    const { store, clock } = await eventfulLog(7, 60);
    const ledger = await openLedger({ store, clock, snapshots: { everyRecords: 20 } });
    await ledger.observe(fleetStateDocument([{ loopId: "loop-a" }]));
    const [newest] = await collectSnapshots(store);
    expect(await verifySnapshots(store, "default")).toEqual([{ seq: newest?.seq, verdict: "matches" }]);
    // someone who can write the store flips the kill switch in the cache only, digest recomputed
    const state = decoded(newest as StoredSnapshot).state;
    const killSwitch = { ...state.fleet.killSwitch, active: !state.fleet.killSwitch.active };
    const forged = encodeSnapshot({ ...state, fleet: { ...state.fleet, killSwitch } }, undefined);
    await store.putSnapshot("default", { seq: (newest?.seq ?? 0) - 1, body: "not a snapshot" });
    await store.putSnapshot("default", forged);
    expect(await verifySnapshots(store, "default")).toEqual([
      { seq: newest?.seq, verdict: "differs" },
      { seq: (newest?.seq ?? 0) - 1, verdict: "unusable", detail: "no digest" },
    ]);
    await store.putSnapshot("default", { seq: 99_999, body: "x" });
    expect((await verifySnapshots(store, "default"))[0]).toEqual({ seq: 99_999, verdict: "unusable", detail: "no digest" });
  });

  it("keeps the Merkle frontier for a ledger that signs checkpoints, and needs it to open from a snapshot", async () => {
    const { store, clock } = await eventfulLog(8, 60);
    const published: { size: number; rootHash: string }[] = [];
    const checkpoints = {
      signers: [parseSignerKey(KEY.signerKey)],
      everyRecords: 25,
      publish: async (_note: string, c: { size: number; rootHash: string }) => void published.push(c),
    };
    await openLedger({ store, clock, snapshots: { everyRecords: 10 } }); // a snapshot without a frontier
    const signing = await openLedger({ store, clock, checkpoints, snapshots: { everyRecords: 10 } });
    const [withTree] = await collectSnapshots(store);
    expect(decoded(withTree as StoredSnapshot).tree?.size).toBe(withTree?.seq);
    const reopened = await openLedger({ store, clock, checkpoints, snapshots: { everyRecords: 10 } });
    for (let i = 0; i < 30; i++) await reopened.observe(fleetStateDocument([{ loopId: "loop-a" }], { traceId: `c-${i}` }));
    const fresh = await openLedger({ store, clock, checkpoints: { ...checkpoints, publish: async () => {} }, snapshots: false });
    expect(fresh.head()).toEqual(reopened.head());
    // the checkpoint the reopened ledger signed is the root a full fold computes
    const last = published[published.length - 1];
    let tree = MerkleFrontier.EMPTY;
    await followChain(store, "default", null, (envelope, hash) => {
      if (envelope.seq <= (last?.size ?? 0)) tree = tree.append(recordLeaf(hash));
      return undefined;
    });
    expect(last?.rootHash).toBe(Buffer.from(tree.root()).toString("base64"));
    expect(signing.head()?.seq).toBeLessThan(reopened.head()?.seq ?? 0);
  });

  it("never fails a command over a snapshot the store cannot take", async () => {
    const store = createMemoryEventStore();
    const errors: unknown[] = [];
    const full: EventStore = {
      ...store,
      putSnapshot: async (streamId) => {
        throw new StoreUnavailableError("memory", "putSnapshot", streamId, { cause: new Error("ENOSPC") });
      },
    };
    const ledger = await openLedger({ store: full, clock: fixedClock(T0), snapshots: { everyRecords: 5, onError: (e) => errors.push(e) } });
    for (let i = 0; i < 12; i++) expect((await ledger.observe(fleetStateDocument([{ loopId: "loop-a" }]))).ok).toBe(true);
    expect(errors).toHaveLength(2); // at seq 5 and 10 (LedgerCreated is 1), not at every append after the first failure
    expect(errors[0]).toBeInstanceOf(StoreUnavailableError);
  });
});

async function collectSnapshots(store: EventStore): Promise<StoredSnapshot[]> {
  const all: StoredSnapshot[] = [];
  for await (const snapshot of store.snapshots("default")) all.push(snapshot);
  return all;
}

async function collectTypes(store: EventStore): Promise<Map<number, string>> {
  const types = new Map<number, string>();
  await followChain(store, "default", null, (envelope) => {
    types.set(envelope.seq, envelope.type);
    return undefined;
  });
  return types;
}

async function copyOf(store: EventStore): Promise<EventStore> {
  const copy = createMemoryEventStore();
  for await (const record of store.read("default")) {
    const { seq, hash } = sealedLineHead(record.line) as { seq: number; hash: string };
    await copy.append({ streamId: "default", expectedSeq: seq - 1, records: [{ seq, hash, line: record.line }] });
  }
  return copy;
}
