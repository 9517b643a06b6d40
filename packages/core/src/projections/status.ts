import type { Registry } from "../contract/normalized-registry.ts";
import { SEVERITIES } from "../contract/taxonomy.ts";
import type { CandidateDecision, LoopResult, PolicyEvaluated } from "../events/fleet-events.ts";
import { assessGovernance } from "../fleet/governance.ts";
import { HALT_PAUSED_AUTO, HALT_PAUSED_MANUAL, haltReasons } from "../fleet/halt.ts";
import type { LedgerState } from "../fleet/ledger-state.ts";
import { compareCodePoints, sortedUnique, tally } from "../fleet/order.ts";
import { planOutline } from "../fleet/plan.ts";
import { POLICY_GATED_CODES, type ReasonCode, ROLLOUT_GATED_CODES } from "../fleet/reason-codes.ts";
import type { BatchRecord, FleetState } from "../fleet/state.ts";
import { candidateView, evaluationSummary, pauseView } from "./evaluation.ts";

// objects marked (p) in the reference have null-valued keys removed
const prune = <T extends Record<string, unknown>>(object: T): Partial<T> =>
  Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null && value !== undefined)) as Partial<T>;

function outcomeOfBatch(batch: BatchRecord | null) {
  const results = batch?.results ?? [];
  const n = (status: string) => results.filter((r) => r.status === status).length;
  return {
    attempted: (batch?.intents.length ?? 0) - (batch?.skipped.length ?? 0),
    executed: n("executed"),
    ambiguous: n("ambiguous"),
    failed: n("failed"),
  };
}

// outcomes of sprite_service intents that failed or stayed ambiguous, by reason (the reference's transport gate)
function transportGated(batch: BatchRecord | null) {
  const byReason: Record<string, number> = {};
  if (batch) {
    const transports = new Map(batch.intents.map((i) => [i.intentId, i.transport]));
    for (const result of batch.results) {
      if (transports.get(result.intentId) === "sprite_service" && (result.status === "failed" || result.status === "ambiguous"))
        tally(byReason, result.reasonCode || "transport_execution_blocked");
    }
  }
  return { blockedCount: Object.values(byReason).reduce((a, b) => a + b, 0), byReason };
}

function gatedBy(byReason: Record<string, number>, codes: readonly string[]) {
  const picked: Record<string, number> = {};
  for (const code of codes) if (byReason[code]) picked[code] = byReason[code];
  return { blockedCount: Object.values(picked).reduce((a, b) => a + b, 0), byReason: picked };
}

const SAFETY_RAILS: readonly ReasonCode[] = [
  "autonomous_kill_switch_enabled",
  "autonomous_cooldown_active",
  "autonomous_max_actions_per_run_exceeded",
  "autonomous_max_actions_per_loop_exceeded",
];

/**
 * The fleet status document (reference §6), a pure projection of the folded log at `now`: every
 * JSON path downstream tools read keeps the reference's meaning; opsledger adds `ledger`,
 * `outcomeTotals` and windowed `outcomeRates` beside them. Governance posture is computed at `now`.
 */
export function fleetStatus(ledger: LedgerState, now: Date) {
  const fleet: FleetState = ledger.fleet;
  const observation = fleet.observation?.data ?? null;
  const results = observation?.results ?? [];
  const registry = fleet.policy?.registry ?? null;
  const evaluation =
    fleet.evaluation && registry ? evaluationSummary(fleet.evaluation.data, registry, fleet.evaluation.seq, fleet.evaluation.at) : null;
  const plan = planOutline(fleet, now);
  const health = { healthy: 0, degraded: 0, critical: 0, unknown: 0 };
  for (const r of results) health[r.healthStatus]++;
  // results usually come in strictly ascending loop id order (code points): then a filtered
  // list is already sorted and unique, and nothing needs sorting
  const ascending = results.every((r, i) => i === 0 || compareCodePoints((results[i - 1] as LoopResult).loopId, r.loopId) < 0);
  const ids = (pick: (r: LoopResult) => boolean) => {
    const picked = results.filter(pick).map((r) => r.loopId);
    return ascending ? picked : sortedUnique(picked);
  };
  const mode = registry?.policy.mode ?? "advisory";

  const last = fleet.lastAutonomousBatch;
  const rollup = {
    ...outcomeOfBatch(last),
    manual_backlog: plan.summary.pendingManualOnlyCount,
  };
  const totals = fleet.outcomeTotals.autonomous;
  const windowed = fleet.autoPause.window;
  const windowAttempted = windowed.reduce((a, b) => a + b.attempted, 0);

  const governance = fleet.policy
    ? (() => {
        const g = fleet.policy.governance;
        const assessed = assessGovernance(mode, g, now.getTime());
        return prune({
          changedBy: g.actor ?? null,
          changedAt: g.changedAt ?? null,
          approvalRef: g.approvalRef ?? null,
          approvedBy: g.approvedBy ?? null,
          why: g.rationale ?? null,
          until: g.reviewBy ?? null,
          reviewWindowDays: registry?.policy.autonomous.governance.reviewWindowDays ?? null,
          authorityContextPresent: assessed.authorityContextPresent,
          posture: assessed.posture,
          reasonCodes: assessed.reasonCodes,
          blocksAutonomous: assessed.blocksAutonomous,
          policyHash: fleet.policy.hash,
          appliedAt: fleet.policy.at,
          change: fleet.policy.change,
        });
      })()
    : null;

  const byReason = evaluation?.summary.byAutonomyReason ?? {};
  const policyGated = gatedBy(byReason, POLICY_GATED_CODES);
  const rolloutGated = gatedBy(byReason, ROLLOUT_GATED_CODES);
  const governanceBlocks = governance?.blocksAutonomous === true;
  const governanceGated = {
    blockedCount: governanceBlocks ? (evaluation?.unsuppressedCount ?? 0) : 0,
    reasonCodes: governance?.reasonCodes ?? [],
  };
  const transport = transportGated(fleet.lastBatch);
  const suppressionReasonCodes: ReasonCode[] = [
    ...(policyGated.blockedCount > 0 ? (["autonomous_suppression_policy_gated"] as const) : []),
    ...(rolloutGated.blockedCount > 0 ? (["autonomous_suppression_rollout_gated"] as const) : []),
    ...(governanceGated.blockedCount > 0 ? (["autonomous_suppression_governance_gated"] as const) : []),
    ...(transport.blockedCount > 0 ? (["autonomous_suppression_transport_gated"] as const) : []),
  ];
  const safetyBlocked = SAFETY_RAILS.reduce((sum, code) => sum + (byReason[code] ?? 0), rolloutGated.blockedCount);
  const killSwitchActive = (registry?.policy.autonomous.safety.killSwitch ?? false) || fleet.killSwitch.active;

  const lastOutcome = outcomeOfBatch(fleet.lastBatch);
  const lastBatchView = fleet.lastBatch
    ? {
        mode: fleet.lastBatch.mode,
        requestedBy: fleet.lastBatch.by,
        requestedAt: fleet.lastBatch.requestedAt,
        completedAt: fleet.lastBatch.completedAt,
        requestedIntentCount: fleet.lastBatch.intents.length,
        executedIntentCount: fleet.lastBatch.results.length,
        skippedIntentCount: fleet.lastBatch.skipped.length,
        executedCount: lastOutcome.executed,
        ambiguousCount: lastOutcome.ambiguous,
        failedCount: lastOutcome.failed,
        byReasonCode: fleet.lastBatch.results.reduce<Record<string, number>>((map, r) => {
          tally(map, r.reasonCode);
          return map;
        }, {}),
      }
    : null;
  const { byAutonomyReason } = plan;
  const handoff = fleet.evaluation
    ? prune({
        mode,
        reasonCodes: plan.reasonCodes,
        summary: { ...plan.summary, autonomousOutcomeRollup: rollup },
        execution: lastBatchView,
        byAutonomyReason,
        pendingManualOnlyCount: plan.summary.pendingManualOnlyCount,
        traceId: fleet.evaluation.data.traceId,
        updatedAt: fleet.lastBatch?.requestedAt ?? fleet.evaluation.at,
      })
    : null;
  const pause = registry && fleet.evaluation ? pauseView(registry, fleet.evaluation.data) : null;
  const pausedNow = haltReasons(fleet).filter((code) => code === HALT_PAUSED_MANUAL || code === HALT_PAUSED_AUTO);

  return {
    schemaVersion: "v1",
    generatedAt: now.toISOString(),
    source: { fleetId: ledger.fleetId },
    ledger: { seq: ledger.seq, headHash: ledger.headHash },
    fleet: {
      status: observation?.status ?? "unknown",
      reasonCodes: observation?.reasonCodes ?? [],
      loopCount: observation?.loopCount ?? 0,
      successCount: observation?.successCount ?? 0,
      failedCount: observation?.failedCount ?? 0,
      skippedCount: observation?.skippedCount ?? 0,
      startedAt: observation?.startedAt ?? null,
      updatedAt: observation?.updatedAt ?? fleet.observation?.at ?? null,
      durationSeconds: observation?.durationSeconds ?? null,
      traceId: observation?.traceId ?? null,
      partialFailure: (observation?.failedCount ?? 0) > 0 && (observation?.successCount ?? 0) > 0,
    },
    healthRollup: health,
    exceptions: {
      reconcileFailures: ids((r) => r.status === "failed"),
      criticalLoops: ids((r) => r.healthStatus === "critical"),
      degradedLoops: ids((r) => r.healthStatus === "degraded"),
      skippedLoops: ids((r) => r.status === "skipped"),
    },
    policy: evaluation
      ? prune({
          mode: evaluation.mode,
          candidateCount: evaluation.candidateCount,
          unsuppressedCount: evaluation.unsuppressedCount,
          suppressedCount: evaluation.suppressedCount,
          reasonCodes: evaluation.reasonCodes,
          topCandidates: fleet.evaluation && registry ? topCandidates(fleet.evaluation.data, registry) : [],
          traceId: evaluation.traceId,
          updatedAt: evaluation.updatedAt,
        })
      : null,
    handoff,
    autonomous:
      fleet.policy || fleet.lastBatch
        ? prune({
            mode,
            enabled: mode === "guarded_auto",
            policyReasonCodes: evaluation?.reasonCodes ?? [],
            handoffReasonCodes: plan.reasonCodes,
            eligibleCandidateCount: evaluation?.autoEligibleCount ?? 0,
            manualOnlyCandidateCount: evaluation?.manualOnlyCount ?? 0,
            outcomeRollup: rollup,
            outcomeTotals: {
              batches: totals.batches,
              attempted: totals.attempted,
              executed: totals.executed,
              ambiguous: totals.ambiguous,
              failed: totals.failed,
              manual: fleet.outcomeTotals.manual,
            },
            outcomeRates: {
              windowBatches: windowed.length,
              windowAttempted,
              ambiguityRate: windowAttempted > 0 ? windowed.reduce((a, b) => a + b.ambiguous, 0) / windowAttempted : 0,
              failureRate: windowAttempted > 0 ? windowed.reduce((a, b) => a + b.failed, 0) / windowAttempted : 0,
            },
            inFlightCount: plan.summary.inFlightCount,
            governance,
            safetyGateDecisions: {
              byReason,
              byPath: { policyGated, rolloutGated, governanceGated, transportGated: transport },
              suppressionReasonCodes,
              blockedCount: safetyBlocked,
              killSwitchActive,
              killSwitch: {
                registry: registry?.policy.autonomous.safety.killSwitch ?? false,
                operator: fleet.killSwitch.active,
                operatorBy: fleet.killSwitch.governance?.actor ?? null,
              },
            },
            rollout:
              registry && evaluation
                ? prune({
                    canaryPercent: evaluation.rollout.canaryPercent,
                    scopeLoopIds: evaluation.rollout.scopeLoopIds,
                    selectorSalt: evaluation.rollout.selectorSalt,
                    hashVersion: evaluation.rollout.hashVersion,
                    selectorMode: evaluation.rollout.selectorMode,
                    candidateBuckets: evaluation.rollout.candidateBuckets,
                    // the pause as the log is now (not as the last evaluation saw it): the CLI's text reads these fields too
                    state: {
                      active: pausedNow.length > 0,
                      manualPauseActive: pausedNow.includes(HALT_PAUSED_MANUAL),
                      autoPauseActive: pausedNow.includes(HALT_PAUSED_AUTO),
                      reasonCodes: pausedNow,
                    },
                    autopause: pause
                      ? {
                          ...pause.auto,
                          active: fleet.autoPause.latch !== null && pause.auto.enabled,
                          reasons: fleet.autoPause.latch?.reasons ?? pause.auto.reasons,
                          trippedAt: fleet.autoPause.latch?.at ?? null,
                        }
                      : null,
                    pause,
                  })
                : null,
            handoff: fleet.lastBatch
              ? prune({
                  autoEligibleIntentCount: plan.summary.autoEligibleIntentCount,
                  manualOnlyIntentCount: plan.summary.manualOnlyIntentCount,
                  pendingManualOnlyCount: plan.summary.pendingManualOnlyCount,
                  executionMode: fleet.lastBatch.mode,
                  executedCount: lastBatchView?.executedCount ?? 0,
                  ambiguousCount: lastBatchView?.ambiguousCount ?? 0,
                  failedCount: lastBatchView?.failedCount ?? 0,
                  outcomeRollup: rollup,
                  outcomeReasonCodes: lastBatchView?.byReasonCode ?? {},
                })
              : null,
          })
        : null,
    loops: loopViews(results, ascending),
    traceLinkage: {
      fleetTraceId: observation?.traceId ?? null,
      policyTraceId: fleet.evaluation?.data.traceId ?? null,
      loopTraceIds: sortedUnique(results.flatMap((r) => (r.traceId ? [r.traceId] : []))),
      sharedTraceId: null,
    },
    drills: Object.fromEntries([...fleet.drills].map(([id, drill]) => [id, drill])),
  };
}

// the five most severe candidates, in evaluation order within a severity (a stable sort by severity)
function topCandidates(evaluation: PolicyEvaluated, registry: Registry, count = 5) {
  const picked: CandidateDecision[] = [];
  for (const severity of SEVERITIES) {
    for (const candidate of evaluation.candidates) {
      if (picked.length === count) break;
      if (candidate.severity === severity) picked.push(candidate);
    }
  }
  return picked.map((candidate) => candidateView(candidate, registry, evaluation));
}

// loops[] (p): the optional fields only where the result has them, in loop id order (code points)
function loopViews(results: readonly LoopResult[], ascending: boolean) {
  const views = results.map((r) => {
    const view: Record<string, unknown> = { loopId: r.loopId, status: r.status };
    if (r.reasonCode != null) view["reasonCode"] = r.reasonCode;
    if (r.reconcileStatus != null) view["reconcileStatus"] = r.reconcileStatus;
    view["healthStatus"] = r.healthStatus;
    view["healthReasonCodes"] = r.healthReasonCodes;
    if (r.transitionState != null) view["transitionState"] = r.transitionState;
    if (r.durationSeconds != null) view["durationSeconds"] = r.durationSeconds;
    if (r.traceId != null) view["traceId"] = r.traceId;
    view["transport"] = r.transport;
    view["registered"] = r.registered;
    return view as Partial<LoopResult> & { loopId: string };
  });
  return ascending ? views : views.sort((a, b) => compareCodePoints(a.loopId, b.loopId));
}

/** The fleet status document. */
export type FleetStatus = ReturnType<typeof fleetStatus>;
