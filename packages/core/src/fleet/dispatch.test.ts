import { describe, expect, it } from "vitest";
import { runDrill } from "../drills/drills.ts";
import { openLedger } from "../ledger/ledger.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { fleetStateDocument, guardedRegistry, operator } from "../testing/fixtures.ts";
import type { Dispatcher, DispatchReport } from "./dispatch.ts";

const T0 = "2026-03-01T00:00:00.000Z";

function recorder(report: DispatchReport | ((call: number) => DispatchReport)) {
  const calls: { intentId: string; idempotencyKey: string; traceId: string | null }[] = [];
  const dispatcher: Dispatcher = async (intent, context) => {
    calls.push({ intentId: intent.intentId, idempotencyKey: context.idempotencyKey, traceId: context.traceId });
    return typeof report === "function" ? report(calls.length) : report;
  };
  return { dispatcher, calls };
}

async function fleet(registry = guardedRegistry(), results = [{ loopId: "loop-red", healthStatus: "critical" as const }]) {
  const clock = fixedClock(T0);
  const store = createMemoryEventStore();
  const ledger = await openLedger({ store, clock, ids: sequentialIds() });
  const applied = await ledger.applyRegistry(registry);
  if (!applied.ok) throw new Error(JSON.stringify(applied.errors));
  await ledger.observe(fleetStateDocument(results));
  await ledger.evaluate();
  return { ledger, clock, store };
}

const ok = <T extends { ok: boolean }>(value: T) => {
  if (!value.ok) throw new Error(JSON.stringify(value));
  return value as Extract<T, { ok: true }>;
};

describe("the reference's incident drills (§8), step by step with exact counts and reason codes", () => {
  for (const drillId of ["kill_switch", "sprite_service_outage", "ambiguous_retry_guard"] as const) {
    it(`passes the ${drillId} drill and records DrillRecorded in the drill's ledger and the fleet's`, async () => {
      const store = createMemoryEventStore();
      const clock = fixedClock(T0, 5);
      const fleetLedger = await openLedger({ store, clock, ids: sequentialIds("f") });
      const result = await runDrill(drillId, { store, clock, ids: sequentialIds("d"), record: fleetLedger });
      expect(result.checks.filter((c) => !c.passed)).toEqual([]);
      expect(result.status).toBe("pass");
      expect(result.checks.length).toBeGreaterThan(5);
      expect(fleetLedger.state().fleet.drills.get(drillId)).toMatchObject({ status: "pass" });
      const drillLedger = await openLedger({ store, fleetId: result.drillLedger });
      expect((await drillLedger.verify()).ok).toBe(true);
      expect(drillLedger.state().fleet.drills.get(drillId)?.status).toBe("pass");
    });
  }
});

describe("autonomous dispatch re-checks every gate now (semantics §2 #2)", () => {
  it("stops the very next dispatch when the kill switch is engaged after the evaluation (the reference needed a re-run)", async () => {
    const { ledger } = await fleet();
    expect((await ledger.plan()).summary.autoEligibleIntentCount).toBe(1);
    await ledger.engageKillSwitch(operator());
    const control = recorder({ status: "confirmed" });
    const batch = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher, by: "ops-bot" }));
    expect(batch.requestedIntentCount).toBe(0);
    expect(batch.intents[0]?.autonomous.reasons).toEqual(["autonomous_kill_switch_enabled"]);
    expect(control.calls).toHaveLength(0);
  });

  it("stops the next dispatch when a cap is lowered, the rollout paused, or the review expires after the evaluation", async () => {
    const capped = await fleet();
    await capped.ledger.applyRegistry(guardedRegistry({ maxActionsPerRun: 0 }));
    expect(
      ok(await capped.ledger.dispatch({ mode: "autonomous", dispatcher: recorder({ status: "confirmed" }).dispatcher }))
        .requestedIntentCount,
    ).toBe(0);
    const paused = await fleet();
    await paused.ledger.pauseRollout(operator());
    expect(
      ok(await paused.ledger.dispatch({ mode: "autonomous", dispatcher: recorder({ status: "confirmed" }).dispatcher }))
        .requestedIntentCount,
    ).toBe(0);
    const expired = await fleet();
    expired.clock.set("2026-12-31T00:00:01Z");
    const batch = ok(await expired.ledger.dispatch({ mode: "autonomous", dispatcher: recorder({ status: "confirmed" }).dispatcher }));
    expect(batch.requestedIntentCount).toBe(0);
    expect(batch.intents[0]?.autonomous.reasons).toContain("autonomous_governance_review_expired");
  });

  it("never dispatches an executed intent instance again, however often autonomy runs (the reference re-dispatched on a stale state)", async () => {
    const { ledger } = await fleet();
    const control = recorder({ status: "confirmed" });
    const first = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher, by: "ops-bot" }));
    expect(first).toMatchObject({ requestedIntentCount: 1, executedCount: 1 });
    expect(first.reasonCodes).toContain("fleet_handoff_executed");
    for (let i = 0; i < 3; i++) {
      await ledger.evaluate();
      const again = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher, by: "ops-bot" }));
      expect(again.requestedIntentCount).toBe(0);
      expect(again.intents[0]).toMatchObject({ status: "executed", autonomous: { reasons: ["autonomous_intent_already_dispatched"] } });
    }
    expect(control.calls).toHaveLength(1);
  });

  it("keeps an ambiguous intent manual-only in every later autonomous dispatch until acknowledged, then dispatches the new instance with a new key (the reference's guard lasted one generation)", async () => {
    const { ledger } = await fleet();
    const control = recorder((call) => ({ status: call === 1 ? "ambiguous" : "confirmed" }));
    ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher }));
    for (let i = 0; i < 4; i++) {
      if (i % 2 === 0) await ledger.evaluate();
      const batch = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher }));
      expect(batch.requestedIntentCount).toBe(0);
      expect(batch.intents[0]?.autonomous.reasons).toContain("autonomous_retry_guard_ambiguous");
    }
    expect(control.calls).toHaveLength(1);
    expect(await ledger.acknowledgeIntent("loop-red:health_critical:cancel", { by: "" })).toMatchObject({ ok: false });
    expect(await ledger.acknowledgeIntent("loop-red:nope:cancel", { by: "bob" })).toMatchObject({ ok: false });
    ok(await ledger.acknowledgeIntent("loop-red:health_critical:cancel", { by: "bob", note: "checked the loop by hand" }));
    await ledger.evaluate();
    const after = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher }));
    expect(after.requestedIntentCount).toBe(1);
    expect(control.calls).toHaveLength(2);
    expect(control.calls[1]?.idempotencyKey).not.toBe(control.calls[0]?.idempotencyKey);
  });

  it("guards a failed intent the same way, with autonomous_retry_guard_failed", async () => {
    const { ledger } = await fleet();
    ok(
      await ledger.dispatch({
        mode: "autonomous",
        dispatcher: recorder({ status: "failed", transport: "service_unreachable" }).dispatcher,
      }),
    );
    const plan = await ledger.plan();
    expect(plan.intents[0]).toMatchObject({
      status: "pending_operator_confirmation",
      lastOutcome: { status: "failed", reasonCode: "control_failed_command" },
    });
    expect(plan.intents[0]?.autonomous.reasons).toEqual(["autonomous_retry_guard_failed"]);
    expect(plan.reasonCodes).toContain("fleet_handoff_retry_guarded");
  });

  it("opens a new instance after the loop was observed healthy, dispatchable again under the cooldown counted from dispatch (the reference counted from classification)", async () => {
    const { ledger, clock } = await fleet(guardedRegistry({ cooldownSeconds: 600 }));
    const control = recorder({ status: "confirmed" });
    ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher }));
    clock.advance(60_000);
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red" }]));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }], { traceId: "second-incident" }));
    const doc = await ledger.evaluate();
    expect(doc.candidates[0]?.autonomous.reasons).toEqual(["autonomous_cooldown_active"]);
    expect(doc.candidates[0]?.autonomous.safety.cooldown).toEqual({ active: true, remainingSeconds: 540, lastDispatchedAt: T0 });
    clock.advance(600_000);
    await ledger.evaluate();
    const batch = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher }));
    expect(batch.requestedIntentCount).toBe(1);
    expect(control.calls.map((c) => c.idempotencyKey)).toEqual([
      "fleet-handoff-fleet-trace-i1-loop-red-health_critical-cancel",
      "fleet-handoff-second-incident-i2-loop-red-health_critical-cancel",
    ]);
  });

  it("an eligible candidate that was never dispatched stays eligible on re-evaluation (the reference's cooldown started at classification)", async () => {
    const { ledger } = await fleet(guardedRegistry({ cooldownSeconds: 600 }));
    expect((await ledger.evaluate()).autoEligibleCount).toBe(1);
  });

  it("refuses autonomous dispatch in advisory mode and without an evaluation", async () => {
    const advisory = await fleet(guardedRegistry({ mode: "advisory" }));
    expect(await advisory.ledger.dispatch({ mode: "autonomous", dispatcher: recorder({ status: "confirmed" }).dispatcher })).toEqual({
      ok: false,
      errors: [{ path: "mode", message: "autonomous dispatch requires policy mode guarded_auto" }],
    });
    const ledger = await openLedger({ store: createMemoryEventStore(), clock: fixedClock(T0), ids: sequentialIds() });
    expect(await ledger.dispatch({ mode: "autonomous", dispatcher: recorder({ status: "confirmed" }).dispatcher })).toMatchObject({
      ok: false,
    });
  });
});

describe("manual dispatch: the operator path is always open", () => {
  it("works with the kill switch on, a pause and an expired review", async () => {
    const { ledger, clock } = await fleet(guardedRegistry({ killSwitch: true }));
    await ledger.pauseRollout(operator());
    clock.set("2027-01-05T00:00:00Z");
    const control = recorder({ status: "confirmed" });
    const batch = ok(
      await ledger.dispatch({
        mode: "manual",
        intentIds: ["loop-red:health_critical:cancel"],
        confirm: true,
        dispatcher: control.dispatcher,
        by: "oncall",
      }),
    );
    expect(batch).toMatchObject({
      mode: "manual",
      requestedIntentCount: 1,
      executedCount: 1,
      results: [{ status: "executed", reasonCode: "control_confirmed" }],
    });
  });

  it("needs confirm and known intent ids, and writes nothing when refused", async () => {
    const { ledger, store } = await fleet();
    const before = (await store.head("default"))?.seq;
    const dispatcher = recorder({ status: "confirmed" }).dispatcher;
    expect(
      await ledger.dispatch({ mode: "manual", intentIds: ["loop-red:health_critical:cancel"], confirm: false, dispatcher }),
    ).toMatchObject({ ok: false, errors: [{ path: "confirm" }] });
    const unknown = await ledger.dispatch({ mode: "manual", intentIds: ["ghost:health_critical:cancel"], confirm: true, dispatcher });
    expect(unknown).toMatchObject({
      ok: false,
      errors: [{ path: "intentIds", message: expect.stringContaining('"ghost:health_critical:cancel" is not in the plan') }],
    });
    expect((await store.head("default"))?.seq).toBe(before);
  });

  it("shows deduped candidates as pending manual intents (the reference's dedupe hid them, §2 #6)", async () => {
    const { ledger, clock } = await fleet(guardedRegistry({ dedupeWindowSeconds: 300, categories: ["reconcile_failed"] }));
    clock.advance(10_000);
    const doc = await ledger.evaluate();
    expect(doc.candidates[0]).toMatchObject({ suppressed: true, suppressionScope: "cooldown" });
    const plan = await ledger.plan();
    expect(plan.summary).toMatchObject({ intentCount: 1, pendingConfirmationCount: 1, pendingManualOnlyCount: 1 });
    expect((await ledger.status()).autonomous?.outcomeRollup?.manual_backlog).toBe(1);
  });
});

describe("the dispatcher contract (architecture §2)", () => {
  const one = async (dispatcher: Dispatcher, timeoutMs?: number) => {
    const { ledger } = await fleet();
    return ok(await ledger.dispatch({ mode: "autonomous", dispatcher, ...(timeoutMs ? { timeoutMs } : {}) }));
  };

  it("records unconfirmed as executed with control_executed_unconfirmed and confirmed false (the reference said control_confirmed)", async () => {
    const batch = await one(async () => ({ status: "unconfirmed" }));
    expect(batch.results).toEqual([
      {
        intentId: "loop-red:health_critical:cancel",
        loopId: "loop-red",
        status: "executed",
        reasonCode: "control_executed_unconfirmed",
        confirmed: false,
        transport: null,
      },
    ]);
  });

  it("records a throw as failed with its message, and a transport fault with its transport reason", async () => {
    const thrown = await one(async () => {
      throw new Error("socket hang up");
    });
    expect(thrown.results[0]).toMatchObject({ status: "failed", reasonCode: "control_failed_command" });
    const transport = await one(async () => ({ status: "failed", transport: "http_503" }));
    expect(transport.results[0]).toMatchObject({ status: "failed", reasonCode: "control_failed_command", transport: "http_503" });
  });

  it("records a timeout as ambiguous and aborts the dispatcher through its signal", async () => {
    let aborted = false;
    const batch = await one(
      (_intent, { signal }) =>
        new Promise(() => {
          signal.addEventListener("abort", () => {
            aborted = true;
          });
        }),
      50,
    );
    expect(batch.results[0]).toMatchObject({ status: "ambiguous", reasonCode: "control_ambiguous" });
    expect(aborted).toBe(true);
  });

  it("passes a stable idempotency key per instance in the reference's slug format, and the trace", async () => {
    const { ledger } = await fleet();
    const control = recorder({ status: "ambiguous" });
    ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher }));
    ok(
      await ledger.dispatch({
        mode: "manual",
        intentIds: ["loop-red:health_critical:cancel"],
        confirm: true,
        dispatcher: control.dispatcher,
        traceId: "handoff-2",
      }),
    );
    expect(control.calls).toEqual([
      {
        intentId: "loop-red:health_critical:cancel",
        idempotencyKey: "fleet-handoff-fleet-trace-i1-loop-red-health_critical-cancel",
        traceId: "fleet-trace",
      },
      {
        intentId: "loop-red:health_critical:cancel",
        idempotencyKey: "fleet-handoff-fleet-trace-i1-loop-red-health_critical-cancel",
        traceId: "handoff-2",
      },
    ]);
  });

  it("leaves an intent whose dispatcher never returned in flight: ambiguous until resolved, never pending or executed", async () => {
    const { ledger, store, clock } = await fleet();
    // the dispatcher hangs, as a process killed mid-dispatch would; nothing after DispatchRequested is written
    void ledger.dispatch({ mode: "autonomous", dispatcher: () => new Promise(() => undefined), timeoutMs: 3_600_000 });
    await new Promise((resolve) => setImmediate(resolve));
    const reopened = await openLedger({ store, clock, ids: sequentialIds("r") });
    const plan = await reopened.plan();
    expect(plan.intents[0]).toMatchObject({ status: "in_flight", lastOutcome: { status: "in_flight" } });
    expect(plan.intents[0]?.autonomous.reasons).toEqual(["autonomous_retry_guard_ambiguous", "dispatch_in_flight"]);
    expect((await reopened.status()).autonomous?.inFlightCount).toBe(1);
    expect(
      ok(await reopened.dispatch({ mode: "autonomous", dispatcher: recorder({ status: "confirmed" }).dispatcher })).requestedIntentCount,
    ).toBe(0);
    ok(await reopened.acknowledgeIntent("loop-red:health_critical:cancel", { by: "oncall", note: "verified cancelled" }));
  });
});
