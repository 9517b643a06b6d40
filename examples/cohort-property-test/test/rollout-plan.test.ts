import { parseRegistry, selectCohort } from "@opsledger/core";
import { arbitraryLoopId, arbitraryRegistry } from "@opsledger/core/testing/property";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const NOW = "2026-03-01T00:00:00Z";

describe("our rollout plan", () => {
  it("widening the canary never drops a loop that was already in it", () => {
    fc.assert(
      fc.property(arbitraryRegistry({ now: NOW }), fc.integer({ min: 0, max: 100 }), (doc, step) => {
        const registry = parseRegistry(doc, { now: NOW });
        const loopIds = registry.loops.map((loop) => loop.loopId);
        const rollout = registry.policy.autonomous.rollout;
        const wider = { ...rollout, canaryPercent: Math.min(100, rollout.canaryPercent + step) };
        const before = selectCohort(loopIds, rollout);
        const after = selectCohort(loopIds, wider);
        before.forEach((selection, i) => {
          if (selection.inCohort) expect(after[i]?.inCohort).toBe(true);
        });
      }),
    );
  });

  it("a loop outside the scope is never in the cohort, whatever the canary", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbitraryLoopId(), { minLength: 2, maxLength: 30 }),
        fc.integer({ min: 0, max: 100 }),
        (loopIds, canaryPercent) => {
          const scope = loopIds.slice(0, 1);
          const selection = selectCohort(loopIds, {
            canaryPercent,
            scope: { loopIds: scope },
            selector: { salt: "ours", hashVersion: 2, mode: "exact" },
          });
          for (const s of selection.slice(1)) expect(s.inCohort).toBe(false);
        },
      ),
    );
  });

  it("the cohort of a loop does not depend on which other loops the fleet has (percent mode)", () => {
    fc.assert(
      fc.property(arbitraryLoopId({ unicode: true }), fc.uniqueArray(arbitraryLoopId(), { maxLength: 20 }), (loopId, others) => {
        const rollout = {
          canaryPercent: 25,
          scope: { loopIds: [] },
          selector: { salt: "ours", hashVersion: 1 as const, mode: "percent" as const },
        };
        const alone = selectCohort([loopId], rollout)[0];
        const withOthers = selectCohort([...others.filter((o) => o !== loopId), loopId], rollout).at(-1);
        expect(withOthers).toEqual(alone);
      }),
    );
  });
});
