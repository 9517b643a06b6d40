import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditTimeline } from "../audit/timeline.ts";
import { canonicalJson } from "../chain/canonical-json.ts";
import { parseRegistry, policyHash } from "../contract/registry.ts";
import { type Ledger, openLedger, replay } from "../ledger/ledger.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, type ManualClock, sequentialIds } from "../testing/clock.ts";
import { fleetStateDocument, guardedRegistry, operator } from "../testing/fixtures.ts";
import { fleetStatus } from "./status.ts";

const T0 = "2026-03-01T00:00:00.000Z";

async function ledgerWith(registry: Record<string, unknown>): Promise<{ ledger: Ledger; clock: ManualClock }> {
  const clock = fixedClock(T0);
  const ledger = await openLedger({ store: createMemoryEventStore(), clock, ids: sequentialIds() });
  const applied = await ledger.applyRegistry(registry);
  if (!applied.ok) throw new Error(JSON.stringify(applied.errors));
  return { ledger, clock };
}

describe("fleet status (reference §6): the JSON paths downstream tools read", () => {
  it("exposes every path of semantics §1 with the reference's meaning", async () => {
    const { ledger } = await ledgerWith(guardedRegistry({ loops: ["loop-a", "loop-b", "loop-c"], rollout: { canaryPercent: 40 } }));
    await ledger.observe(
      fleetStateDocument([
        { loopId: "loop-a", healthStatus: "critical" },
        { loopId: "loop-b", status: "failed", healthStatus: "degraded" },
        { loopId: "loop-c" },
      ]),
    );
    await ledger.evaluate();
    await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }) });
    const s = await ledger.status();
    expect(s.fleet).toMatchObject({
      status: "partial_failure",
      reasonCodes: ["fleet_health_critical", "fleet_partial_failure"],
      loopCount: 3,
      successCount: 2,
      failedCount: 1,
      skippedCount: 0,
      partialFailure: true,
    });
    expect(s.healthRollup).toEqual({ healthy: 1, degraded: 1, critical: 1, unknown: 0 });
    expect(s.exceptions).toEqual({ reconcileFailures: ["loop-b"], criticalLoops: ["loop-a"], degradedLoops: ["loop-b"], skippedLoops: [] });
    expect(s.policy).toMatchObject({ mode: "guarded_auto", candidateCount: 3, unsuppressedCount: 3, suppressedCount: 0 });
    expect(s.policy?.reasonCodes).toContain("fleet_auto_candidates_rollout_gated");
    const a = s.autonomous;
    expect(a?.enabled).toBe(true);
    expect(a?.governance).toMatchObject({
      changedBy: "alice",
      changedAt: "2026-02-23T00:00:00Z",
      approvalRef: "CAB-900",
      why: "guarded autonomy for the fleet",
      until: "2026-12-31T00:00:00Z",
      reviewWindowDays: 311,
      posture: "active",
      reasonCodes: [],
      blocksAutonomous: false,
    });
    expect(a?.outcomeRollup).toEqual({ attempted: 1, executed: 1, ambiguous: 0, failed: 0, manual_backlog: 2 });
    expect(a?.rollout).toMatchObject({
      canaryPercent: 40,
      scopeLoopIds: [],
      selectorSalt: "fleet-autonomous-rollout-v1",
      candidateBuckets: { inScopeCount: 3, inCohortCount: 1, outOfCohortCount: 2 },
    });
    expect(a?.rollout?.state).toEqual({ active: false, manualPauseActive: false, autoPauseActive: false, reasonCodes: [] });
    expect(a?.rollout?.autopause).toMatchObject({ enabled: true, active: false, lookbackExecutions: 5, minSampleSize: 3 });
    expect(a?.safetyGateDecisions?.byReason).toEqual({
      autonomous_rollout_canary_excluded: 2,
      category_not_allowlisted: 1,
      confidence_below_threshold: 1,
      severity_below_threshold: 1,
    });
    expect(a?.safetyGateDecisions?.byPath.policyGated).toEqual({
      blockedCount: 3,
      byReason: { category_not_allowlisted: 1, severity_below_threshold: 1, confidence_below_threshold: 1 },
    });
    expect(a?.safetyGateDecisions?.byPath.rolloutGated).toEqual({ blockedCount: 2, byReason: { autonomous_rollout_canary_excluded: 2 } });
    expect(a?.safetyGateDecisions?.suppressionReasonCodes).toEqual([
      "autonomous_suppression_policy_gated",
      "autonomous_suppression_rollout_gated",
    ]);
    expect(a?.safetyGateDecisions?.killSwitchActive).toBe(false);
    expect(s.loops.map((l) => l.loopId)).toEqual(["loop-a", "loop-b", "loop-c"]);
    expect(s.ledger.seq).toBe(ledger.head()?.seq);
  });

  const postureAt = async (governance: Record<string, unknown>, now: string) => {
    const { ledger } = await ledgerWith(guardedRegistry({ mode: "advisory", governance }));
    const state = ledger.state();
    // guarded_auto with this governance, as a hand-built log would record it (apply would refuse it)
    const registry = parseRegistry(guardedRegistry({ mode: "advisory", governance }), { now: T0 });
    const guarded = {
      ...registry,
      policy: { ...registry.policy, mode: "guarded_auto" as const, autonomous: { ...registry.policy.autonomous, enabled: true } },
    };
    const governanceRecord = Object.fromEntries(
      Object.entries(guarded.policy.autonomous.governance).filter(
        ([k, v]) => v !== undefined && k !== "reviewWindowDays" && k !== "requireDistinctApprover",
      ),
    );
    const handBuilt = {
      ...state,
      fleet: {
        ...state.fleet,
        policy: {
          registry: guarded,
          hash: policyHash(guarded),
          seq: 2,
          at: T0,
          change: "autonomous_mode_toggled" as const,
          governance: governanceRecord,
          actor: undefined,
        },
      },
    };
    return fleetStatus(handBuilt, new Date(now)).autonomous?.governance;
  };

  it("computes governance posture at each boundary with an injected now", async () => {
    const advisory = await ledgerWith(guardedRegistry({ mode: "advisory" }));
    expect((await advisory.ledger.status()).autonomous?.governance).toMatchObject({
      posture: "not_required",
      reasonCodes: [],
      blocksAutonomous: false,
    });
    expect(await postureAt({ actor: undefined }, T0)).toMatchObject({
      posture: "authority_missing",
      reasonCodes: ["autonomous_governance_authority_missing"],
      blocksAutonomous: true,
      authorityContextPresent: false,
    });
    expect(await postureAt({ reviewBy: undefined }, T0)).toMatchObject({
      posture: "authority_missing",
      reasonCodes: ["autonomous_governance_authority_missing", "autonomous_governance_review_deadline_missing"],
    });
    expect(await postureAt({}, "2026-12-31T00:00:00.000Z")).toMatchObject({
      posture: "review_expired",
      reasonCodes: ["autonomous_governance_review_expired"],
      blocksAutonomous: true,
    });
    // exactly 7 days before the deadline is due soon; a millisecond earlier is active
    expect(await postureAt({}, "2026-12-24T00:00:00.000Z")).toMatchObject({
      posture: "review_due_soon",
      reasonCodes: ["autonomous_governance_review_due_soon"],
      blocksAutonomous: false,
    });
    expect(await postureAt({}, "2026-12-23T23:59:59.999Z")).toMatchObject({ posture: "active", reasonCodes: [], blocksAutonomous: false });
  });

  it("counts transport-gated outcomes for sprite_service loops only", async () => {
    const { ledger } = await ledgerWith(
      guardedRegistry({
        loops: [{ loopId: "loop-local" }, { loopId: "loop-sprite", transport: "sprite_service" }],
        categories: ["reconcile_failed"],
      }),
    );
    await ledger.observe(
      fleetStateDocument([
        { loopId: "loop-local", status: "failed" },
        { loopId: "loop-sprite", status: "failed", transport: "sprite_service" },
      ]),
    );
    await ledger.evaluate();
    await ledger.dispatch({
      mode: "autonomous",
      dispatcher: async (intent) => (intent.loopId === "loop-sprite" ? { status: "ambiguous" } : { status: "failed" }),
    });
    const gated = (await ledger.status()).autonomous?.safetyGateDecisions;
    expect(gated?.byPath.transportGated).toEqual({ blockedCount: 1, byReason: { control_ambiguous: 1 } });
    expect(gated?.suppressionReasonCodes).toContain("autonomous_suppression_transport_gated");
  });

  it("keeps outcomeRollup to the latest autonomous batch and outcomeTotals cumulative", async () => {
    const { ledger, clock } = await ledgerWith(guardedRegistry({ categories: ["reconcile_failed"] }));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red", status: "failed" }]));
    await ledger.evaluate();
    await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "failed" }) });
    await ledger.acknowledgeIntent("loop-red:reconcile_failed:cancel", { by: "bob" });
    clock.advance(1000);
    await ledger.evaluate();
    await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }) });
    await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }) });
    const a = (await ledger.status()).autonomous;
    expect(a?.outcomeRollup).toEqual({ attempted: 0, executed: 0, ambiguous: 0, failed: 0, manual_backlog: 0 });
    expect(a?.outcomeTotals).toMatchObject({ batches: 3, attempted: 2, executed: 1, failed: 1, ambiguous: 0 });
    expect(a?.outcomeRates).toEqual({ windowBatches: 2, windowAttempted: 2, ambiguityRate: 0, failureRate: 0.5 });
  });

  it("equals the status of a full replay of the log, for generated histories (fold determinism)", async () => {
    const action = fc.constantFrom(
      "observe-bad",
      "observe-good",
      "evaluate",
      "dispatch-ok",
      "dispatch-ambiguous",
      "kill",
      "release",
      "ack",
      "advance",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 15 }), async (actions) => {
        const store = createMemoryEventStore();
        const clock = fixedClock(T0);
        const ledger = await openLedger({ store, clock, ids: sequentialIds() });
        await ledger.applyRegistry(guardedRegistry({ loops: ["a", "b"], categories: ["reconcile_failed", "health_critical"] }));
        for (const a of actions) {
          if (a === "observe-bad")
            await ledger.observe(
              fleetStateDocument([
                { loopId: "a", status: "failed", healthStatus: "critical" },
                { loopId: "b", healthStatus: "critical" },
              ]),
            );
          if (a === "observe-good") await ledger.observe(fleetStateDocument([{ loopId: "a" }, { loopId: "b" }]));
          if (a === "evaluate" && ledger.state().fleet.observation) await ledger.evaluate();
          if (a === "dispatch-ok" && ledger.state().fleet.evaluation)
            await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }) });
          if (a === "dispatch-ambiguous" && ledger.state().fleet.evaluation)
            await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "ambiguous" }) });
          if (a === "kill") await ledger.engageKillSwitch(operator());
          if (a === "release") await ledger.releaseKillSwitch(operator());
          if (a === "ack")
            for (const intentId of ledger.state().fleet.intents.keys()) await ledger.acknowledgeIntent(intentId, { by: "bob" });
          if (a === "advance") clock.advance(90_000);
        }
        const now = new Date("2026-03-02T00:00:00Z");
        const incremental = fleetStatus(ledger.state(), now);
        const folded = fleetStatus(await replay(store, "default"), now);
        expect(canonicalJson(JSON.parse(JSON.stringify(folded)))).toBe(canonicalJson(JSON.parse(JSON.stringify(incremental))));
      }),
      { numRuns: 80 },
    );
  });
});

describe("audit timeline", () => {
  it("lists every governance-relevant event as who, when, what, why, review by, with seq and hash", async () => {
    const { ledger, clock } = await ledgerWith(guardedRegistry({ mode: "advisory" }));
    await ledger.applyRegistry(guardedRegistry());
    clock.advance(60_000);
    await ledger.engageKillSwitch({ ...operator("carol", "INC-7", "runaway cancels"), reviewBy: "2026-03-02T00:00:00Z" });
    await ledger.releaseKillSwitch(operator("carol", "INC-7", "fixed"));
    await ledger.observe(fleetStateDocument([{ loopId: "loop-red" }]));
    const entries = await auditTimeline(ledger.store, "default");
    expect(entries.map((e) => [e.seq, e.event, e.who, e.why, e.reviewBy, e.approvalRef])).toEqual([
      [2, "PolicyApplied", "alice", "guarded autonomy for the fleet", "2026-12-31T00:00:00Z", "CAB-900"],
      [3, "PolicyApplied", "alice", "guarded autonomy for the fleet", "2026-12-31T00:00:00Z", "CAB-900"],
      [4, "KillSwitchEngaged", "carol", "runaway cancels", "2026-03-02T00:00:00Z", "INC-7"],
      [5, "KillSwitchReleased", "carol", "fixed", null, "INC-7"],
    ]);
    expect(entries[1]?.what).toContain("mode advisory → guarded_auto [autonomous_mode_toggled]");
    expect(entries[2]?.at).toBe("2026-03-01T00:01:00.000Z");
    expect(entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
  });
});
