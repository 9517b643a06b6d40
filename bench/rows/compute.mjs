// Pure decider work: evaluate (candidates/s), cohort selection (loops/s), status (statuses/s).
// Usage: compute.mjs evaluate <loops> | cohort <1|2> | status <loops>
import {
  decideEvaluation,
  fleetStatus,
  initialLedgerState,
  parseRegistry,
  policyHash,
  readFleetState,
  selectCohort,
} from "@opsledger/core";
import { measure, report } from "../lib.mjs";

const [what, arg] = process.argv.slice(2);
const n = Number(arg);

function fleet(loops) {
  const ids = Array.from({ length: loops }, (_, i) => `loop-${String(i).padStart(6, "0")}`);
  const registry = parseRegistry(
    {
      schemaVersion: "v1",
      loops: ids.map((loopId) => ({ loopId })),
      policy: {
        mode: "guarded_auto",
        autonomous: {
          safety: { maxActionsPerRun: 100, maxActionsPerLoop: 1 },
          rollout: { canaryPercent: 50 },
          governance: { actor: "a", approvalRef: "b", rationale: "c", changedAt: "2026-01-01T00:00:00Z", reviewBy: "2027-01-01T00:00:00Z" },
        },
      },
    },
    { now: "2026-03-01T00:00:00Z" },
  );
  // every loop failed and unhealthy: two candidates per loop
  const read = readFleetState(
    { schemaVersion: "v1", results: ids.map((loopId, i) => ({ loopId, status: "failed", healthStatus: i % 2 ? "critical" : "degraded" })) },
    registry,
  );
  const base = initialLedgerState("bench");
  return {
    ids,
    state: {
      ...base,
      fleet: {
        ...base.fleet,
        policy: {
          registry,
          hash: policyHash(registry),
          seq: 1,
          at: "2026-03-01T00:00:00.000Z",
          change: "autonomous_policy_initialized",
          governance: {},
          actor: undefined,
        },
        observation: { seq: 2, at: "2026-03-01T00:00:00.000Z", data: read.observation },
      },
    },
  };
}

const context = { now: new Date("2026-03-01T00:00:00Z"), traceId: "t", evaluationId: "e" };
let result;
if (what === "evaluate") {
  const { state } = fleet(n);
  let candidates = 0;
  const value = await measure(
    () => {
      const started = performance.now();
      candidates = decideEvaluation(state.fleet, context).evaluation.candidates.length;
      return candidates / ((performance.now() - started) / 1000);
    },
    // many runs: one run is 10–50 ms here and the median must not hang on one GC pause
    { runs: n <= 10_000 ? 21 : 5, warmup: n <= 10_000 ? 5 : 1 },
  );
  result = { value, unit: "candidates/s", notes: `${candidates} candidates` };
} else if (what === "cohort") {
  const ids = Array.from({ length: 200_000 }, (_, i) => `loop-${i}`);
  const rollout = {
    canaryPercent: 25,
    scope: { loopIds: [] },
    selector: { salt: "fleet-autonomous-rollout-v1", hashVersion: n, mode: "percent" },
  };
  const value = await measure(
    () => {
      const started = performance.now();
      selectCohort(ids, rollout);
      return ids.length / ((performance.now() - started) / 1000);
    },
    { runs: 5 },
  );
  result = { value, unit: "loops/s" };
} else {
  const { state } = fleet(n);
  const decision = decideEvaluation(state.fleet, context);
  const evaluated = {
    ...state,
    fleet: { ...state.fleet, evaluation: { seq: 3, at: "2026-03-01T00:00:00.000Z", data: decision.evaluation } },
  };
  // documents per second in a process that keeps producing them (a service polled for status):
  // each run makes documents for at least 300 ms, so a 1 ms document is not timed one at a time
  // while the JIT is still compiling it
  const value = await measure(
    () => {
      const started = performance.now();
      let documents = 0;
      do {
        fleetStatus(evaluated, context.now);
        documents++;
      } while (performance.now() - started < 300);
      return documents / ((performance.now() - started) / 1000);
    },
    { runs: 5 },
  );
  result = { value, unit: "statuses/s", notes: `${n} loops` };
}
report(result);
