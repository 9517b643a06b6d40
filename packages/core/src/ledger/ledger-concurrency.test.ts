import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seal } from "../chain/seal.ts";
import { verifyLog } from "../chain/verify.ts";
import { isOpsledgerError, OutcomeNotRecordedError, StoreUnavailableError } from "../errors.ts";
import type { Dispatcher } from "../fleet/dispatch.ts";
import type { EventStore } from "../store/event-store.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { stateFingerprint } from "../testing/determinism.ts";
import { countEventTypes } from "../testing/event-counts.ts";
import { fleetStateDocument, guardedRegistry, operator } from "../testing/fixtures.ts";
import { openLedger, replay } from "./ledger.ts";

const T0 = "2026-03-01T00:00:00.000Z";
const observation = (traceId: string, healthStatus: "healthy" | "critical" = "healthy") =>
  fleetStateDocument([{ loopId: "loop-red", healthStatus }], { traceId });
const ok = <T extends { ok: boolean }>(value: T) => {
  if (!value.ok) throw new Error(JSON.stringify(value));
  return value as Extract<T, { ok: true }>;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const typesIn = (store: EventStore) => countEventTypes(store, "default");

async function guardedFleet(loops = ["loop-red"], registry = guardedRegistry({ loops, maxActionsPerRun: 10 })) {
  const store = createMemoryEventStore();
  const clock = fixedClock(T0);
  const ledger = await openLedger({ store, clock, ids: sequentialIds("a") });
  ok(await ledger.applyRegistry(registry));
  ok(await ledger.observe(fleetStateDocument(loops.map((loopId) => ({ loopId, healthStatus: "critical" as const })))));
  await ledger.evaluate();
  return { store, clock, ledger };
}

describe("one ledger instance, many concurrent callers", () => {
  for (const callers of [20, 64]) {
    it(`takes ${callers} concurrent observe() calls with none failing, decided in call order on one chain`, async () => {
      const store = createMemoryEventStore();
      const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds() });
      const results = await Promise.all(Array.from({ length: callers }, (_, i) => ledger.observe(observation(`t-${i}`))));
      const seqs = results.map((r) => ok(r).seq);
      // LedgerCreated is seq 1; every call got the next seq in the order it was made
      expect(seqs).toEqual(Array.from({ length: callers }, (_, i) => i + 2));
      const report = await verifyLog(store, "default");
      expect(report).toMatchObject({ ok: true, count: callers + 1 });
    });
  }

  it("decides queued commands on the state the ones before them left; one refusal fails no other", async () => {
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store, clock: fixedClock(T0), ids: sequentialIds() });
    const [early, applied, observed, evaluated] = await Promise.allSettled([
      ledger.evaluate(), // nothing applied yet: refused for its own reason
      ledger.applyRegistry(guardedRegistry()),
      ledger.observe(observation("t-1", "critical")),
      ledger.evaluate(), // decided after the apply and the observation it was queued behind
    ]);
    expect(early.status === "rejected" && isOpsledgerError(early.reason, "PRECONDITION")).toBe(true);
    expect(applied).toMatchObject({ status: "fulfilled", value: { ok: true, seq: 2 } });
    expect(observed).toMatchObject({ status: "fulfilled", value: { ok: true, seq: 3 } });
    expect(evaluated).toMatchObject({ status: "fulfilled", value: { autoEligibleCount: 1 } });
    expect(await typesIn(store)).toEqual({ LedgerCreated: 1, PolicyApplied: 1, FleetObserved: 1, PolicyEvaluated: 1 });
  });

  it("folds each record once: concurrent commands after another writer's dispatch agree with a fresh replay", async () => {
    const { store, clock } = await guardedFleet();
    const a = await openLedger({ store, clock, ids: sequentialIds("a") });
    const b = await openLedger({ store, clock, ids: sequentialIds("b") });
    ok(await b.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }), by: "bot" }));
    await Promise.all([a.observe(observation("x-1")), a.observe(observation("x-2")), a.status(), a.observe(observation("x-3"))]);
    const totals = (await a.status()).autonomous?.outcomeTotals;
    const fresh = await openLedger({ store, clock });
    expect(totals).toEqual((await fresh.status()).autonomous?.outcomeTotals);
    expect(totals).toMatchObject({ batches: 1, attempted: 1, executed: 1 });
    expect(stateFingerprint(a.state())).toBe(stateFingerprint(await replay(store, "default")));
  });
});

describe("an outcome is a fact, never lost", () => {
  it("records DispatchCompleted while 80 concurrent observe() calls (this instance and another) move the head", async () => {
    const { store, clock, ledger } = await guardedFleet();
    const other = await openLedger({ store, clock, ids: sequentialIds("o") });
    const observes: Promise<unknown>[] = [];
    const dispatcher: Dispatcher = async () => {
      for (let i = 0; i < 40; i++) observes.push(ledger.observe(observation(`same-${i}`, "critical")));
      for (let i = 0; i < 40; i++) observes.push(other.observe(observation(`other-${i}`, "critical")));
      await Promise.all(observes);
      return { status: "confirmed" };
    };
    const batch = ok(await ledger.dispatch({ mode: "autonomous", dispatcher, by: "bot" }));
    expect(batch).toMatchObject({ requestedIntentCount: 1, executedCount: 1 });
    const plan = await ledger.plan();
    expect(plan.intents[0]).toMatchObject({ status: "executed", lastOutcome: { status: "executed" } });
    expect(await typesIn(store)).toMatchObject({ FleetObserved: 81, DispatchRequested: 1, DispatchCompleted: 1 });
    expect((await verifyLog(store, "default")).ok).toBe(true);
  });

  it("hands an outcome the store refused back in a typed error, and records it once when asked", async () => {
    const { store, clock } = await guardedFleet();
    let down = false;
    const flaky: EventStore = {
      ...store,
      append: (request) => (down ? Promise.reject(new StoreUnavailableError("memory", "append", request.streamId)) : store.append(request)),
    };
    const ledger = await openLedger({ store: flaky, clock, ids: sequentialIds("f") });
    const dispatcher: Dispatcher = async () => {
      down = true; // the cancel happened; then the store went away
      return { status: "confirmed" };
    };
    const error = await ledger.dispatch({ mode: "autonomous", dispatcher, by: "bot" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeNotRecordedError);
    const { outcomes } = error as OutcomeNotRecordedError;
    expect(outcomes).toMatchObject([
      { type: "DispatchCompleted", data: { intentId: "loop-red:health_critical:cancel", status: "executed" } },
    ]);
    expect((await ledger.plan()).intents[0]?.status).toBe("in_flight");
    down = false;
    expect(await ledger.recordOutcomes(outcomes)).toEqual({ recorded: 1 });
    expect(await ledger.recordOutcomes(outcomes)).toEqual({ recorded: 0 });
    expect((await ledger.plan()).intents[0]?.status).toBe("executed");
    expect(await typesIn(store)).toMatchObject({ DispatchCompleted: 1 });
  });
});

describe("halt means halt, mid-batch", () => {
  it("dispatches at most the intent in progress once another instance engages the kill switch; the rest stay pending", async () => {
    const loops = ["loop-1", "loop-2", "loop-3", "loop-4", "loop-5"];
    const { store, clock, ledger } = await guardedFleet(loops);
    const replica = await openLedger({ store, clock, ids: sequentialIds("r") });
    const calls: string[] = [];
    const slow: Dispatcher = async (intent) => {
      calls.push(intent.intentId);
      if (calls.length === 1) ok(await replica.engageKillSwitch(operator()));
      await sleep(5);
      return { status: "confirmed" };
    };
    const batch = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: slow, by: "bot" }));
    expect(calls).toHaveLength(1);
    expect(batch).toMatchObject({ requestedIntentCount: 5, executedCount: 1, skippedCount: 4 });
    expect(batch.skipped.every((s) => s.reasonCodes.includes("autonomous_kill_switch_enabled"))).toBe(true);
    expect(batch.reasonCodes).toContain("autonomous_kill_switch_enabled");
    const plan = await ledger.plan();
    const pending = plan.intents.filter((i) => i.status === "pending_operator_confirmation");
    expect(pending).toHaveLength(4);
    expect(pending.every((i) => i.lastOutcome === null && i.autonomous.reasons.includes("autonomous_kill_switch_enabled"))).toBe(true);
    const status = await ledger.status();
    expect(status.autonomous?.outcomeRollup).toMatchObject({ attempted: 1, executed: 1 });
    expect(await typesIn(store)).toMatchObject({ DispatchCompleted: 1, DispatchSkipped: 4 });
    expect((await verifyLog(store, "default")).ok).toBe(true);
  });

  it("halts on a rollout pause from another instance, and the halted intents go when autonomy resumes", async () => {
    const loops = ["loop-1", "loop-2", "loop-3"];
    const { store, clock, ledger } = await guardedFleet(loops);
    const replica = await openLedger({ store, clock, ids: sequentialIds("r") });
    let calls = 0;
    const dispatcher: Dispatcher = async () => {
      if (++calls === 2) ok(await replica.pauseRollout(operator()));
      return { status: "confirmed" };
    };
    const first = ok(await ledger.dispatch({ mode: "autonomous", dispatcher, by: "bot" }));
    expect(first).toMatchObject({ executedCount: 2, skippedCount: 1, skipped: [{ reasonCodes: ["autonomous_rollout_paused_manual"] }] });
    ok(await replica.resumeRollout(operator()));
    const second = ok(await ledger.dispatch({ mode: "autonomous", dispatcher, by: "bot" }));
    expect(second).toMatchObject({ requestedIntentCount: 1, executedCount: 1, skippedCount: 0 });
    expect(second.results[0]?.intentId).toBe(first.skipped[0]?.intentId);
  });
});

describe("time never goes backwards (semantics §2 row 28)", () => {
  it("records a command from a clock set back at the head's time", async () => {
    const store = createMemoryEventStore();
    const ahead = await openLedger({ store, clock: fixedClock("2026-03-10T00:00:00Z"), ids: sequentialIds("a") });
    await ahead.init();
    const behind = await openLedger({ store, clock: fixedClock("2020-01-01T00:00:00Z"), ids: sequentialIds("b") });
    ok(await behind.engageKillSwitch(operator()));
    expect((await replay(store, "default")).lastEventAt).toBe("2026-03-10T00:00:00.000Z");
    expect((await verifyLog(store, "default")).ok).toBe(true);
  });

  it("keeps an expired review expired for a clock set back: evaluate and dispatch run nothing autonomously", async () => {
    const store = createMemoryEventStore();
    const real = fixedClock(T0);
    const ledger = await openLedger({ store, clock: real, ids: sequentialIds("a") });
    ok(await ledger.applyRegistry(guardedRegistry({ governance: { reviewBy: "2026-03-05T00:00:00Z" } })));
    real.set("2026-03-10T00:00:00Z"); // the review expired
    ok(await ledger.observe(observation("t-1", "critical")));
    const skewed = await openLedger({ store, clock: fixedClock("2026-03-02T00:00:00Z"), ids: sequentialIds("s") });
    const evaluation = await skewed.evaluate();
    expect(evaluation.autoEligibleCount).toBe(0);
    expect(evaluation.candidates[0]?.autonomous.reasons).toContain("autonomous_governance_review_expired");
    const calls: string[] = [];
    const dispatcher: Dispatcher = async (intent) => {
      calls.push(intent.intentId);
      return { status: "confirmed" };
    };
    const batch = ok(await skewed.dispatch({ mode: "autonomous", dispatcher, by: "bot" }));
    expect(batch.requestedIntentCount).toBe(0);
    expect(calls).toEqual([]);
  });

  const logAt = async (times: readonly string[]) => {
    const store = createMemoryEventStore();
    let prevHash = "0".repeat(64);
    for (const [index, at] of times.entries()) {
      const record = seal({ v: 1, ledger: "default", seq: index + 1, id: `r-${index}`, type: "LedgerCreated", at, data: {}, prevHash });
      await store.append({ streamId: "default", expectedSeq: index, records: [record] });
      prevHash = record.hash;
    }
    return store;
  };

  it("reports a record earlier than its predecessor as a time_regression break, and refuses to fold it", async () => {
    const store = await logAt(["2026-03-02T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]);
    const report = await verifyLog(store, "default");
    expect(report.breaks).toMatchObject([{ seq: 2, kind: "time_regression" }]);
    const error = await openLedger({ store }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CHAIN_INTEGRITY", seq: 2, kind: "time_regression" });
  });

  it("orders times written in other forms (an offset, no milliseconds) by the instant they name, not as text", async () => {
    // as text, "2026-03-01T23:00:00-05:00" sorts before "2026-03-02T01:00:00.000Z"; as instants it is 3 h later
    const later = await logAt(["2026-03-02T01:00:00.000Z", "2026-03-01T23:00:00-05:00"]);
    expect((await replay(later, "default")).seq).toBe(2);
    // and "2026-03-02T00:00:00+02:00" sorts after "2026-03-01T23:00:00Z" as text, but is an hour earlier
    const earlier = await logAt(["2026-03-01T23:00:00Z", "2026-03-02T00:00:00+02:00"]);
    expect(await replay(earlier, "default").catch((e: unknown) => e)).toMatchObject({ seq: 2, kind: "time_regression" });
  });
});

describe("reads that are current and safe to hold", () => {
  it("answers status, explain and plan for the log as it is now, other writers' records included", async () => {
    const { store, clock, ledger } = await guardedFleet();
    const cli = await openLedger({ store, clock, ids: sequentialIds("c") });
    ok(await cli.engageKillSwitch(operator()));
    expect((await ledger.status()).autonomous?.safetyGateDecisions?.killSwitchActive).toBe(true);
    expect((await ledger.plan()).intents[0]?.autonomous.reasons).toContain("autonomous_kill_switch_enabled");
    expect((await ledger.explain("loop-red")).found).toBe(true);
    expect(ledger.head()?.seq).toBe((await store.head("default"))?.seq);
  });

  it("returns a state that never changes after it is returned", async () => {
    const { ledger } = await guardedFleet();
    const before = ledger.state();
    const frozen = stateFingerprint(before);
    // a dispatch (intents, cooldown stamps, batches), an observation (instances) and a latch later
    const batch = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }), by: "bot" }));
    expect(batch.executedCount).toBe(1);
    await ledger.observe(observation("later", "healthy"));
    await ledger.evaluate();
    await ledger.engageKillSwitch(operator());
    expect(stateFingerprint(before)).toBe(frozen);
    expect(ledger.state().seq).toBeGreaterThan(before.seq);
  });
});

describe("property: instances interleaved with other writers stay equal to a fresh replay", () => {
  type Step = { instance: number; command: "observe" | "evaluate" | "dispatch" | "kill" | "release" | "ack" | "status" };
  const step: fc.Arbitrary<Step> = fc.record({
    instance: fc.integer({ min: 0, max: 2 }),
    command: fc.constantFrom("observe", "evaluate", "dispatch", "kill", "release", "ack", "status"),
  });
  it("every instance's state equals a replay of the log, whatever the interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }), async (rounds) => {
        const store = createMemoryEventStore();
        const clock = fixedClock(T0, 1);
        const ledgers = await Promise.all([0, 1, 2].map((i) => openLedger({ store, clock, ids: sequentialIds(`l${i}`) })));
        ok(await (ledgers[0] as (typeof ledgers)[0]).applyRegistry(guardedRegistry({ loops: ["loop-red", "loop-blue"] })));
        let n = 0;
        for (const round of rounds) {
          // each round's commands run concurrently, spread over the instances
          await Promise.allSettled(
            round.map(({ instance, command }) => {
              const ledger = ledgers[instance] as (typeof ledgers)[0];
              const id = `r-${n++}`;
              switch (command) {
                case "observe":
                  return ledger.observe(
                    fleetStateDocument([
                      { loopId: "loop-red", healthStatus: n % 2 ? "critical" : "healthy" },
                      { loopId: "loop-blue", status: n % 3 ? "failed" : "success" },
                    ]),
                    { traceId: id },
                  );
                case "evaluate":
                  return ledger.evaluate();
                case "dispatch":
                  return ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: n % 4 ? "confirmed" : "ambiguous" }) });
                case "kill":
                  return ledger.engageKillSwitch(operator());
                case "release":
                  return ledger.releaseKillSwitch(operator());
                case "ack":
                  return ledger
                    .plan()
                    .then((plan) => Promise.all(plan.intents.map((i) => ledger.acknowledgeIntent(i.intentId, { by: "op" }))));
                default:
                  return ledger.status();
              }
            }),
          );
        }
        const expected = stateFingerprint(await replay(store, "default"));
        for (const ledger of ledgers) {
          await ledger.refresh();
          expect(stateFingerprint(ledger.state())).toBe(expected);
        }
        expect((await verifyLog(store, "default")).ok).toBe(true);
      }),
      { numRuns: 60, seed: 13 },
    );
  });
});
