// The concurrency campaign of the quality bars, with default options: one ledger instance, 64
// concurrent mixed commands a round, 100 rounds, on each store. Every call must succeed unless it
// is refused for its own reasons; the log must hold exactly the events the calls acknowledged, in
// one chain; the instance's state must equal a fresh replay.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryEventStore, type EventStore, type Ledger, openLedger, replay, verifyLog } from "@opsledger/core";
import {
  countEventTypes,
  fixedClock,
  fleetStateDocument,
  guardedRegistry,
  operator,
  seededRandom,
  stateFingerprint,
} from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { createS3EventStore } from "@opsledger/store-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3rverHarness, startS3rver } from "../s3/s3rver-harness.mjs";

const ROUNDS = 100;
const CALLERS = 64;
const LOOPS = Array.from({ length: 8 }, (_, i) => `loop-${i}`);

let s3: S3rverHarness;
const dirs: string[] = [];
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

type Expected = Record<string, number>;

// one concurrent call; adds to `expected` what its result says it appended
async function call(ledger: Ledger, kind: number, next: () => number, round: number, expected: Expected): Promise<void> {
  const add = (type: string, n = 1) => {
    expected[type] = (expected[type] ?? 0) + n;
  };
  const changed = (type: string) => (result: { ok: boolean; changed?: boolean }) => {
    if (result.ok && result.changed) add(type);
  };
  switch (kind) {
    case 0:
    case 1:
    case 2: {
      const results = LOOPS.map((loopId) => ({ loopId, healthStatus: next() < 0.5 ? ("critical" as const) : ("healthy" as const) }));
      const observed = await ledger.observe(fleetStateDocument(results, { traceId: `r${round}-${randomUUID()}` }));
      if (observed.ok) add("FleetObserved");
      return;
    }
    case 3:
      await ledger.evaluate();
      add("PolicyEvaluated");
      return;
    case 4: {
      const dispatcher = async () => ({ status: next() < 0.8 ? ("confirmed" as const) : ("ambiguous" as const) });
      const batch = await ledger.dispatch({ mode: "autonomous", dispatcher, by: "bot" });
      if (!batch.ok) return;
      add("DispatchRequested");
      add("DispatchCompleted", batch.results.length);
      add("DispatchSkipped", batch.skippedCount);
      return;
    }
    case 5:
      return void changed("KillSwitchEngaged")(await ledger.engageKillSwitch(operator()));
    case 6:
      return void changed("KillSwitchReleased")(await ledger.releaseKillSwitch(operator()));
    case 7:
      return void changed("RolloutPaused")(await ledger.pauseRollout(operator()));
    case 8:
      return void changed("RolloutResumed")(await ledger.resumeRollout(operator()));
    case 9: {
      const plan = await ledger.plan();
      const guarded = plan.intents.find((i) => i.lastOutcome?.status === "ambiguous");
      if (!guarded) return;
      const acked = await ledger.acknowledgeIntent(guarded.intentId, { by: "oncall" });
      if (acked.ok) add("IntentAcknowledged");
      return;
    }
    default:
      await ledger.status();
  }
}

async function campaign(name: string, store: EventStore): Promise<void> {
  const clock = fixedClock("2026-03-01T00:00:00.000Z", 1);
  const ledger = await openLedger({ store, fleetId: "campaign", clock });
  const registry = guardedRegistry({
    loops: LOOPS,
    maxActionsPerRun: 8,
    maxActionsPerLoop: 8,
    // auto-pause off: a trip is decided by the log, not by a caller, and would blur the exact counts
    rollout: { canaryPercent: 100, autoPause: { enabled: false } },
  });
  const applied = await ledger.applyRegistry(registry);
  expect(applied.ok).toBe(true);
  const expected: Expected = { LedgerCreated: 1, PolicyApplied: 1 };
  const first = await ledger.observe(fleetStateDocument(LOOPS.map((loopId) => ({ loopId, healthStatus: "critical" as const }))));
  expect(first.ok).toBe(true);
  expected["FleetObserved"] = 1;
  const next = seededRandom(20261202);
  const failures: unknown[] = [];
  let calls = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const settled = await Promise.allSettled(
      Array.from({ length: CALLERS }, () => call(ledger, Math.floor(next() * 11), next, round, expected)),
    );
    calls += settled.length;
    for (const outcome of settled) if (outcome.status === "rejected") failures.push(outcome.reason);
  }
  expect(failures).toEqual([]);
  const report = await verifyLog(store, "campaign");
  expect(report.breaks).toEqual([]);
  const actual = await countEventTypes(store, "campaign");
  expect(actual).toEqual(expected);
  expect(stateFingerprint(ledger.state())).toBe(stateFingerprint(await replay(store, "campaign")));
  const events = Object.values(actual).reduce((a, b) => a + b, 0);
  console.info(
    `concurrency campaign (${name}): ${ROUNDS} rounds × ${CALLERS} concurrent mixed commands = ${calls} calls, 0 errors, ${events} events in one chain, state = replay`,
  );
}

describe("one ledger instance under 64 concurrent mixed commands × 100 rounds, default options", () => {
  it("on the memory store", async () => {
    await campaign("memory", createMemoryEventStore());
  }, 300_000);

  it("on the fs store", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-campaign-"));
    dirs.push(dir);
    const store = createFsEventStore({ dir });
    await campaign("fs", store);
    await store.close();
  }, 300_000);

  it("on the S3 store (s3rver over HTTP)", async () => {
    const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: `campaign-${randomUUID()}` });
    await campaign("s3", store);
    await store.close();
  }, 300_000);
});
