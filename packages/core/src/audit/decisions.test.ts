import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../chain/canonical-json.ts";
import { GENESIS_HASH } from "../chain/hash.ts";
import { type Envelope, openSealedLine, seal } from "../chain/seal.ts";
import { verifyLog } from "../chain/verify.ts";
import { decideEvaluation } from "../fleet/evaluate.ts";
import { type Ledger, openLedger } from "../ledger/ledger.ts";
import type { EventStore } from "../store/event-store.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { arbitraryRegistry } from "../testing/arbitraries.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { fleetStateDocument, operator } from "../testing/fixtures.ts";
import { verifyDecisions } from "./decisions.ts";

const T0 = "2026-03-01T00:00:00.000Z";

type Step =
  | { kind: "observe"; health: ("healthy" | "degraded" | "critical")[]; failed: boolean[] }
  | { kind: "evaluate" }
  | { kind: "advance"; seconds: number }
  | { kind: "operator"; action: "engageKillSwitch" | "releaseKillSwitch" | "pauseRollout" | "resumeRollout" | "resumeAutoPause" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("observe" as const),
    health: fc.array(fc.constantFrom("healthy" as const, "degraded" as const, "critical" as const), { minLength: 8, maxLength: 8 }),
    failed: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  }),
  fc.constant({ kind: "evaluate" as const }),
  fc.constant({ kind: "evaluate" as const }),
  fc.record({ kind: fc.constant("advance" as const), seconds: fc.integer({ min: 1, max: 900 }) }),
  fc.record({
    kind: fc.constantFrom("operator" as const),
    action: fc.constantFrom(
      "engageKillSwitch" as const,
      "releaseKillSwitch" as const,
      "pauseRollout" as const,
      "resumeRollout" as const,
      "resumeAutoPause" as const,
    ),
  }),
);

const history = fc.record({ registry: arbitraryRegistry({ now: T0 }), steps: fc.array(step, { minLength: 1, maxLength: 12 }) });

async function run(registry: Record<string, unknown>, steps: readonly Step[]): Promise<{ store: EventStore; ledger: Ledger }> {
  const store = createMemoryEventStore();
  const clock = fixedClock(T0);
  const ledger = await openLedger({ store, clock, ids: sequentialIds() });
  const applied = await ledger.applyRegistry(registry);
  if (!applied.ok) throw new Error(JSON.stringify(applied.errors));
  const loopIds = (registry["loops"] as { loopId: string }[]).map((l) => l.loopId);
  let observed = false;
  for (const s of steps) {
    if (s.kind === "observe") {
      await ledger.observe(
        fleetStateDocument(
          loopIds.map((loopId, i) => ({
            loopId,
            healthStatus: s.health[i % 8] ?? "healthy",
            status: s.failed[i % 8] ? ("failed" as const) : ("success" as const),
          })),
        ),
      );
      observed = true;
    } else if (s.kind === "evaluate" && observed) await ledger.evaluate({ traceId: "t" });
    else if (s.kind === "advance") clock.advance(s.seconds * 1000);
    else if (s.kind === "operator") await ledger[s.action](operator());
  }
  if (!observed) await ledger.observe(fleetStateDocument(loopIds.map((loopId) => ({ loopId, healthStatus: "critical" as const }))));
  await ledger.evaluate();
  return { store, ledger };
}

async function lines(store: EventStore): Promise<string[]> {
  const all: string[] = [];
  for await (const record of store.read("default")) all.push(record.line);
  return all;
}

describe("decision determinism", () => {
  it("makes evaluation a pure function of (state, command, now): same inputs, same event bytes", async () => {
    await fc.assert(
      fc.asyncProperty(history, async ({ registry, steps }) => {
        const a = await run(registry, steps);
        const b = await run(registry, steps);
        expect(await lines(a.store)).toEqual(await lines(b.store));
        const state = a.ledger.state().fleet;
        const context = { now: new Date("2026-03-02T00:00:00Z"), traceId: "x", evaluationId: "y" };
        expect(canonicalJson(decideEvaluation(state, context))).toBe(canonicalJson(decideEvaluation(state, context)));
      }),
      { numRuns: 60 },
    );
  });

  it("reproduces every recorded decision when the decider re-runs over generated histories", async () => {
    await fc.assert(
      fc.asyncProperty(history, async ({ registry, steps }) => {
        const { store } = await run(registry, steps);
        const report = await verifyDecisions(store, "default");
        expect(report.breaks).toEqual([]);
        expect(report.checked).toBeGreaterThan(0);
      }),
      { numRuns: 60 },
    );
  });

  it("reports decision_mismatch at the seq of a decision that was edited and re-hashed (the chain itself still verifies)", async () => {
    await fc.assert(
      fc.asyncProperty(history, fc.nat(), async ({ registry, steps }, pick) => {
        const { store } = await run(registry, steps);
        const original = await lines(store);
        const evaluations = original
          .map((line, index) => ({ line, index }))
          .filter(({ line }) => line.includes('"type":"PolicyEvaluated"'));
        const target = evaluations[pick % evaluations.length] as { index: number };
        // edit the decision, then re-seal it and every later record so every hash and link is valid
        const forged: string[] = [];
        let prevHash = GENESIS_HASH;
        original.forEach((line, index) => {
          const opened = openSealedLine(line);
          if (!opened.ok) throw new Error("bad log");
          let envelope: Envelope<unknown> = { ...opened.envelope, prevHash };
          if (index === target.index) {
            const data = envelope.data as { reasonCodes: string[] };
            envelope = { ...envelope, data: { ...data, reasonCodes: [...data.reasonCodes, "no_action_required_forged"] } };
          }
          const record = seal(envelope);
          forged.push(record.line);
          prevHash = record.hash;
        });
        const forgedStore = createMemoryEventStore();
        await forgedStore.append({
          streamId: "default",
          expectedSeq: 0,
          records: forged.map((line, i) => ({
            seq: i + 1,
            hash: (openSealedLine(line) as { claimedHash: string }).claimedHash,
            line,
          })) as never,
        });
        expect((await verifyLog(forgedStore, "default")).ok).toBe(true);
        const report = await verifyDecisions(forgedStore, "default");
        expect(report.ok).toBe(false);
        expect(report.breaks[0]).toMatchObject({ seq: target.index + 1, kind: "decision_mismatch" });
        expect(report.breaks[0]?.detail).toContain("reasonCodes");
      }),
      { numRuns: 40 },
    );
  });
});
