import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openLedger } from "../ledger/ledger.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";

// What the reference's policy evaluation (ops-manager-fleet-policy.sh under jq 1.6) made of fleet
// states its own fan-out does not write but accepts: facts recorded by
// scripts/record-reference-fleet-state.mjs, so this suite needs neither jq nor the scripts.

interface Case {
  name: string;
  state: unknown;
  reference: {
    ok: true;
    evaluatedLoopCount: number;
    candidateCount: number;
    candidates: Array<{ candidateId: string; loopId: string; category: string; signal: string }>;
    reasonCodes: string[];
  };
}
const record: { registry: unknown; cases: Case[] } = JSON.parse(
  readFileSync(new URL("./testdata/reference-fleet-state.json", import.meta.url), "utf8"),
);

describe("fleet state documents read as the reference reads them", () => {
  for (const { name, state, reference } of record.cases) {
    it(`${name}: the reference's candidates and counts`, async () => {
      const ledger = await openLedger({
        store: createMemoryEventStore(),
        clock: fixedClock("2026-03-01T00:00:00.000Z"),
        ids: sequentialIds(),
      });
      const applied = await ledger.applyRegistry(record.registry);
      expect(applied.ok).toBe(true);
      const observed = await ledger.observe(state);
      expect(observed.ok, JSON.stringify(observed)).toBe(true);
      const evaluation = await ledger.evaluate();
      expect({
        evaluatedLoopCount: evaluation.evaluatedLoopCount,
        candidateCount: evaluation.candidateCount,
        candidates: evaluation.candidates.map(({ candidateId, loopId, category, signal }) => ({ candidateId, loopId, category, signal })),
        reasonCodes: evaluation.reasonCodes,
      }).toEqual({
        evaluatedLoopCount: reference.evaluatedLoopCount,
        candidateCount: reference.candidateCount,
        candidates: reference.candidates,
        reasonCodes: reference.reasonCodes,
      });
    });
  }
});
