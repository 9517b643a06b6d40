import { describe, expect, it } from "vitest";
import { openLedger } from "../ledger/ledger.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { fleetStateDocument, guardedRegistry, operator } from "../testing/fixtures.ts";
import type { DispatchReport } from "./dispatch.ts";
import { computePlan, planOutline } from "./plan.ts";

// The status document reads the plan through planOutline, which never spells out intents: it
// must say exactly what the full plan says, whatever the intents' histories.
describe("planOutline: the plan's counts without its intents", () => {
  it("agrees with computePlan after executed, ambiguous and failed dispatches, a suppression and a kill switch", async () => {
    const loops = ["loop-a", "loop-b", "loop-c", "loop-d", "loop-e", "loop-f"];
    const clock = fixedClock("2026-03-01T00:00:00.000Z", 1000);
    const ledger = await openLedger({ store: createMemoryEventStore(), clock, ids: sequentialIds() });
    const registry = guardedRegistry({
      loops,
      maxActionsPerRun: 3,
      suppressions: { "loop-f": ["health_critical"] },
      dedupeWindowSeconds: 600,
    });
    expect((await ledger.applyRegistry(registry)).ok).toBe(true);
    await ledger.observe(
      fleetStateDocument(loops.map((loopId, i) => ({ loopId, status: i % 2 ? "failed" : "success", healthStatus: "critical" }))),
    );
    await ledger.evaluate();
    const outcomes: DispatchReport["status"][] = ["confirmed", "ambiguous", "failed"];
    let call = 0;
    await ledger.dispatch({ mode: "autonomous", by: "ops-bot", dispatcher: async () => ({ status: outcomes[call++ % 3] ?? "confirmed" }) });
    await ledger.evaluate();

    const agree = () => {
      const { fleet } = ledger.state();
      const now = clock.now();
      const plan = computePlan(fleet, now);
      const outline = planOutline(fleet, now);
      const byReason: Record<string, number> = {};
      for (const intent of plan.intents) for (const reason of intent.autonomous.reasons) byReason[reason] = (byReason[reason] ?? 0) + 1;
      expect(outline).toEqual({
        evaluationSeq: plan.evaluationSeq,
        summary: plan.summary,
        reasonCodes: plan.reasonCodes,
        byAutonomyReason: byReason,
      });
      // the same keys in the same order: the status JSON is compared byte for byte downstream
      expect(Object.keys(outline.byAutonomyReason)).toEqual(Object.keys(byReason));
      return plan;
    };
    const plan = agree();
    expect(plan.summary.executedCount + plan.summary.ambiguousCount + plan.summary.failedCount).toBe(3);
    expect(plan.reasonCodes).toContain("fleet_handoff_retry_guarded");
    await ledger.engageKillSwitch(operator());
    expect(agree().summary.autoEligibleIntentCount).toBe(0);
  });

  it("is the empty plan before anything was evaluated", async () => {
    const ledger = await openLedger({
      store: createMemoryEventStore(),
      clock: fixedClock("2026-03-01T00:00:00.000Z"),
      ids: sequentialIds(),
    });
    const { fleet } = ledger.state();
    const { intents, ...plan } = computePlan(fleet, new Date());
    expect(intents).toEqual([]);
    expect(planOutline(fleet, new Date())).toEqual({ ...plan, byAutonomyReason: {} });
  });
});
