import type { DrillCheck, DrillId } from "../events/fleet-events.ts";
import type { Dispatcher, DispatchReport } from "../fleet/dispatch.ts";
import type { DispatchBatch } from "../fleet/dispatch-commands.ts";
import { type Ledger, openLedger } from "../ledger/ledger.ts";
import type { EventStore } from "../store/event-store.ts";
import { type Clock, type IdGenerator, systemClock, ulidGenerator } from "../system.ts";
import { fleetStateDocument, guardedRegistry } from "../testing/fixtures.ts";

/** Options of a drill run. */
export interface DrillOptions {
  /** The store the drill's fresh ledger is created on (the one under test). */
  readonly store: EventStore;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Also record `DrillRecorded` in this ledger (the fleet's own), as promotion gates read it there. */
  readonly record?: Ledger;
  /** Who runs the drill; defaults to "opsledger-drill". */
  readonly by?: string;
}

/** The outcome of one drill: pass only when every check passed. */
export interface DrillResult {
  readonly drillId: DrillId;
  readonly status: "pass" | "fail";
  readonly drillLedger: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly checks: readonly DrillCheck[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// a checklist that records expected and actual values instead of throwing at the first miss
function checklist() {
  const checks: DrillCheck[] = [];
  return {
    checks,
    equal(name: string, expected: Json, actual: unknown): void {
      const value = (actual === undefined ? null : actual) as Json;
      checks.push({ name, passed: JSON.stringify(expected) === JSON.stringify(value), expected, actual: value });
    },
    contains(name: string, expected: string, actual: readonly string[] | undefined): void {
      checks.push({ name, passed: (actual ?? []).includes(expected), expected: `contains ${expected}`, actual: [...(actual ?? [])] });
    },
  };
}

// a dispatcher that answers as told and counts its calls, like the reference's logging control stub
function stub(report: DispatchReport): { dispatcher: Dispatcher; calls: () => number } {
  let calls = 0;
  return {
    dispatcher: async () => {
      calls++;
      return report;
    },
    calls: () => calls,
  };
}

const ok = <T extends DispatchBatch>(batch: T): Extract<T, { ok: true }> => {
  if (!batch.ok) throw new Error(`dispatch refused: ${batch.errors.map((e) => e.message).join("; ")}`);
  return batch as Extract<T, { ok: true }>;
};

interface DrillContext {
  readonly ledger: Ledger;
  readonly governance: { changedAt: string; reviewBy: string };
  readonly by: string;
  readonly check: ReturnType<typeof checklist>;
  /** A second ledger instance on the drill's stream, as another replica or process would have. */
  readonly openReplica: () => Promise<Ledger>;
}

const drillGovernance = { actor: "oncall-operator", approvalRef: "INC-DRILL", rationale: "incident drill" };

async function prepare(ledger: Ledger, registry: Record<string, unknown>): Promise<void> {
  const applied = await ledger.applyRegistry(registry);
  if (!applied.ok) throw new Error(`drill registry refused: ${applied.errors.map((e) => e.message).join("; ")}`);
}

/** Reference §8.1: the kill switch halts autonomy; the explicit manual path stays open. */
async function killSwitchDrill({ ledger, governance, check, openReplica }: DrillContext): Promise<void> {
  await prepare(
    ledger,
    guardedRegistry({
      categories: ["health_critical"],
      killSwitch: true,
      maxActionsPerRun: 2,
      maxActionsPerLoop: 2,
      governance: { approvalRef: "CAB-900", ...governance },
    }),
  );
  await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
  const evaluation = await ledger.evaluate();
  check.equal("evaluation: autoEligibleCount", 0, evaluation.autoEligibleCount);
  check.equal("evaluation: manualOnlyCount", 1, evaluation.manualOnlyCount);
  check.contains("candidate reasons", "autonomous_kill_switch_enabled", evaluation.candidates[0]?.autonomous.reasons);
  check.contains("evaluation reason codes", "fleet_auto_kill_switch_enabled", evaluation.reasonCodes);
  const control = stub({ status: "confirmed" });
  const auto = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher, by: "ops-bot" }));
  check.equal("autonomous dispatch: mode", "autonomous", auto.mode);
  check.equal("autonomous dispatch: requestedIntentCount", 0, auto.requestedIntentCount);
  check.equal("autonomous dispatch: pendingConfirmationCount", 1, auto.summary.pendingConfirmationCount);
  check.contains("autonomous dispatch reason codes", "fleet_handoff_confirmation_pending", auto.reasonCodes);
  check.equal("control calls after autonomous dispatch", 0, control.calls());
  const intentId = auto.intents[0]?.intentId ?? "loop-red:health_critical:cancel";
  const manual = ok(
    await ledger.dispatch({ mode: "manual", intentIds: [intentId], confirm: true, dispatcher: control.dispatcher, by: "oncall-operator" }),
  );
  check.equal("manual dispatch: requestedIntentCount", 1, manual.requestedIntentCount);
  check.equal("manual dispatch: executedCount", 1, manual.executedCount);
  check.equal("manual dispatch: pendingConfirmationCount", 0, manual.summary.pendingConfirmationCount);
  check.equal("manual dispatch: intent status", "executed", manual.intents[0]?.status);
  check.contains("manual dispatch reason codes", "fleet_handoff_executed", manual.reasonCodes);
  check.equal("control calls after manual dispatch", 1, control.calls());
  check.equal("status: killSwitchActive", true, (await ledger.status()).autonomous?.safetyGateDecisions?.killSwitchActive);

  // mid-batch: a batch of 5 intents is running when another instance (a replica, the CLI) engages
  // the kill switch during the first one; at most that intent completes, the rest stay pending
  const loops = ["loop-k1", "loop-k2", "loop-k3", "loop-k4", "loop-k5"];
  await prepare(
    ledger,
    guardedRegistry({
      loops,
      categories: ["health_critical"],
      maxActionsPerRun: 5,
      maxActionsPerLoop: 1,
      governance: { approvalRef: "CAB-900", ...governance },
    }),
  );
  await ledger.observe(fleetStateDocument(loops.map((loopId) => ({ loopId, healthStatus: "critical" as const }))));
  await ledger.releaseKillSwitch(drillGovernance);
  const batchEvaluation = await ledger.evaluate();
  check.equal("mid-batch: autoEligibleCount", 5, batchEvaluation.autoEligibleCount);
  const replica = await openReplica();
  let calls = 0;
  const slow: Dispatcher = async () => {
    calls++;
    if (calls === 1) await replica.engageKillSwitch(drillGovernance);
    return { status: "confirmed" };
  };
  const halted = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: slow, by: "ops-bot" }));
  check.equal("mid-batch: requestedIntentCount", 5, halted.requestedIntentCount);
  check.equal("mid-batch: control calls (only the intent in progress)", 1, calls);
  check.equal("mid-batch: executedCount", 1, halted.executedCount);
  check.equal("mid-batch: skippedCount", 4, halted.skippedCount);
  check.contains("mid-batch reason codes", "autonomous_kill_switch_enabled", halted.reasonCodes);
  check.equal(
    "mid-batch: skipped intents pending for operators",
    4,
    halted.intents.filter((i) => i.status === "pending_operator_confirmation" && i.lastOutcome === null).length,
  );
}

/**
 * Reference §8.2, driven by real dispatches instead of seeded telemetry: a sprite-service outage
 * fails every autonomous dispatch, the next evaluation trips auto-pause, autonomy stops, the
 * manual fallback works, and an audited resume clears the latch.
 */
async function spriteServiceOutageDrill({ ledger, governance, check }: DrillContext): Promise<void> {
  const loops = ["loop-sprite-a", "loop-sprite-b", "loop-sprite-c"];
  await prepare(
    ledger,
    guardedRegistry({
      loops: loops.map((loopId) => ({ loopId, transport: "sprite_service" as const })),
      categories: ["reconcile_failed"],
      maxActionsPerRun: 3,
      maxActionsPerLoop: 3,
      rollout: {
        canaryPercent: 100,
        pause: { manual: false },
        autoPause: { enabled: true, lookbackExecutions: 3, minSampleSize: 2, ambiguityRateThreshold: 0.9, failureRateThreshold: 0.5 },
      },
      governance: { approvalRef: "CAB-901", ...governance },
    }),
  );
  await ledger.observe(
    fleetStateDocument(
      loops.map((loopId) => ({
        loopId,
        status: "failed" as const,
        reasonCode: "transport_unreachable",
        healthStatus: "degraded" as const,
        healthReasonCodes: ["transport_unreachable"],
        transport: "sprite_service" as const,
      })),
    ),
  );
  const first = await ledger.evaluate();
  check.equal("first evaluation: autoEligibleCount", 3, first.autoEligibleCount);
  const outage = stub({ status: "failed", transport: "service_unreachable", detail: "connection refused" });
  const failing = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: outage.dispatcher, by: "ops-bot" }));
  // two failures of two attempts already meet the failure threshold over the minimum sample: the
  // latch trips inside the batch and its third intent is not dispatched
  check.equal("outage dispatch: failedCount", 2, failing.failedCount);
  check.equal("outage dispatch: skippedCount (halted by the latch the batch tripped)", 1, failing.skippedCount);
  check.contains("outage dispatch reason codes", "fleet_handoff_execution_failed", failing.reasonCodes);
  check.contains("outage dispatch reason codes", "autonomous_rollout_paused_auto", failing.reasonCodes);
  check.equal(
    "status: transport-gated outcomes",
    2,
    (await ledger.status()).autonomous?.safetyGateDecisions?.byPath.transportGated.blockedCount,
  );
  const paused = await ledger.evaluate();
  check.equal("evaluation: auto-pause active", true, paused.rollout.pause.auto.active);
  check.equal("evaluation: metrics.attemptedCount", 2, paused.rollout.pause.auto.metrics.attemptedCount);
  check.equal("evaluation: metrics.failureRate", 1, paused.rollout.pause.auto.metrics.failureRate);
  check.equal(
    "every candidate paused with the failure spike",
    true,
    paused.candidates.every(
      (c) =>
        c.autonomous.reasons.includes("autonomous_rollout_paused_auto") &&
        c.autonomous.reasons.includes("autonomous_autopause_failure_spike"),
    ),
  );
  check.contains("evaluation reason codes", "fleet_auto_candidates_paused", paused.reasonCodes);
  check.contains("evaluation reason codes", "fleet_auto_candidates_autopause_triggered", paused.reasonCodes);
  const plan = await ledger.plan();
  check.equal("plan: autoEligibleIntentCount", 0, plan.summary.autoEligibleIntentCount);
  check.equal("plan: pendingConfirmationCount (2 failed + 1 halted + 3 degraded)", 6, plan.summary.pendingConfirmationCount);
  const held = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: outage.dispatcher, by: "ops-bot" }));
  check.equal("paused autonomous dispatch: requestedIntentCount", 0, held.requestedIntentCount);
  check.contains("paused autonomous dispatch reason codes", "fleet_handoff_confirmation_pending", held.reasonCodes);
  check.equal("control calls after the pause", 2, outage.calls());
  const local = stub({ status: "confirmed" });
  const fallback = ok(
    await ledger.dispatch({
      mode: "manual",
      intentIds: ["loop-sprite-a:reconcile_failed:cancel"],
      confirm: true,
      dispatcher: local.dispatcher,
      by: "oncall-operator",
    }),
  );
  check.equal("manual fallback: executedCount", 1, fallback.executedCount);
  const resumed = await ledger.resumeAutoPause({ actor: "oncall-operator", approvalRef: "CAB-901", rationale: "sprite service restored" });
  check.equal("audited resume clears the latch", true, resumed.ok && resumed.changed && ledger.state().fleet.autoPause.latch === null);
}

/** Reference §8.3 with the durable guard: an ambiguous intent is never retried autonomously, however often autonomy runs. */
async function ambiguousRetryGuardDrill({ ledger, governance, check }: DrillContext): Promise<void> {
  await prepare(
    ledger,
    guardedRegistry({
      categories: ["reconcile_failed"],
      maxActionsPerRun: 1,
      maxActionsPerLoop: 1,
      governance: { approvalRef: "CAB-902", ...governance },
    }),
  );
  await ledger.observe(fleetStateDocument([{ loopId: "loop-red", status: "failed" }]));
  await ledger.evaluate();
  const control = stub({ status: "ambiguous" });
  const first = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher, by: "ops-bot" }));
  check.equal("first autonomous dispatch: requestedIntentCount", 1, first.requestedIntentCount);
  check.equal("first autonomous dispatch: ambiguousCount", 1, first.ambiguousCount);
  check.contains("first autonomous dispatch reason codes", "fleet_handoff_execution_ambiguous", first.reasonCodes);
  const second = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher, by: "ops-bot" }));
  check.equal("second autonomous dispatch: requestedIntentCount", 0, second.requestedIntentCount);
  check.equal("second autonomous dispatch: ambiguousCount", 0, second.ambiguousCount);
  check.equal("second autonomous dispatch: pendingConfirmationCount", 1, second.summary.pendingConfirmationCount);
  check.equal("intent status", "pending_operator_confirmation", second.intents[0]?.status);
  check.equal("intent manualOnly", true, second.intents[0]?.autonomous.manualOnly);
  check.contains("intent reasons", "autonomous_retry_guard_ambiguous", second.intents[0]?.autonomous.reasons);
  check.contains("dispatch reason codes", "fleet_handoff_retry_guarded", second.reasonCodes);
  check.contains("dispatch reason codes", "fleet_handoff_confirmation_pending", second.reasonCodes);
  await ledger.evaluate();
  const third = ok(await ledger.dispatch({ mode: "autonomous", dispatcher: control.dispatcher, by: "ops-bot" }));
  check.equal("third autonomous dispatch after a re-evaluation: requestedIntentCount", 0, third.requestedIntentCount);
  check.equal("control calls after three autonomous dispatches", 1, control.calls());
  const resolve = stub({ status: "confirmed" });
  const manual = ok(
    await ledger.dispatch({
      mode: "manual",
      intentIds: ["loop-red:reconcile_failed:cancel"],
      confirm: true,
      dispatcher: resolve.dispatcher,
      by: "oncall-operator",
    }),
  );
  check.equal("explicit manual dispatch: executedCount", 1, manual.executedCount);
}

const DRILLS: Record<DrillId, (context: DrillContext) => Promise<void>> = {
  kill_switch: killSwitchDrill,
  sprite_service_outage: spriteServiceOutageDrill,
  ambiguous_retry_guard: ambiguousRetryGuardDrill,
};

/**
 * Runs one incident drill end to end in a fresh ledger on the given store, checks every
 * observable result the reference's drill asserts (with opsledger's fixes), and records
 * `DrillRecorded` with pass/fail and the evidence (in the drill's ledger and in `record`).
 */
export async function runDrill(drillId: DrillId, options: DrillOptions): Promise<DrillResult> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? ulidGenerator(clock);
  const by = options.by ?? "opsledger-drill";
  const started = clock.now();
  const drillLedger = `drill-${drillId.replace(/_/g, "-")}-${ids.next().toLowerCase()}`;
  const ledger = await openLedger({ store: options.store, fleetId: drillLedger, clock, ids });
  const day = 86_400_000;
  const governance = {
    changedAt: new Date(started.getTime() - day).toISOString(),
    reviewBy: new Date(started.getTime() + 30 * day).toISOString(),
  };
  const check = checklist();
  try {
    const openReplica = () => openLedger({ store: options.store, fleetId: drillLedger, clock, ids });
    await DRILLS[drillId]({ ledger, governance, by, check, openReplica });
  } catch (error) {
    check.equal("the drill ran to its end", "completed", error instanceof Error ? error.message : String(error));
  }
  const status = check.checks.length > 0 && check.checks.every((c) => c.passed) ? "pass" : "fail";
  const completedAt = clock.now().toISOString();
  const data = { drillId, status, drillLedger, startedAt: started.toISOString(), completedAt, evidence: check.checks } as const;
  for (const target of options.record ? [ledger, options.record] : [ledger]) {
    await target.execute(() => ({ events: [{ type: "DrillRecorded", data, actor: by }], result: null }));
  }
  return { drillId, status, drillLedger, startedAt: data.startedAt, completedAt, checks: check.checks };
}
