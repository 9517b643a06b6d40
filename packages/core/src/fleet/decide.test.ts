// The decider, rule by rule: given events (or commands), when a command, then these events or
// this rejection. No store and no ledger: what the ledger adds (sealing, appending, retries,
// group commit) is specified in ledger.test.ts and ledger-concurrency.test.ts.
import { describe, expect, it } from "vitest";
import { type GivenStep, given } from "../testing/decider-spec.ts";
import { fleetStateDocument, guardedRegistry, operator } from "../testing/fixtures.ts";
import type { FleetCommand } from "./decide.ts";

const critical = fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }], { traceId: "reconcile-7" });
// a guarded fleet with one critical loop, observed and evaluated: one auto-eligible cancel intent
const evaluated: GivenStep[] = [
  { type: "ApplyRegistry", registry: guardedRegistry() },
  { type: "Observe", fleetState: critical },
  { type: "Evaluate" },
];
const autonomous: FleetCommand = { type: "RequestDispatch", mode: "autonomous", by: "ops-bot" };

describe("decide: the ledger itself", () => {
  it("creates an empty ledger with the log format it is written in, and only once", () => {
    const created = given([], { empty: true })
      .when({ type: "CreateLedger" })
      .then([
        {
          type: "LedgerCreated",
          data: { fleetId: "default", format: "opsledger/v1", hash: "sha256", canonicalization: "fast-json-stable-stringify@2" },
        },
      ]);
    expect(created).toEqual({ created: true, seq: 1 });
    expect(given([]).when({ type: "CreateLedger" }).then([])).toEqual({ created: false, seq: 1 });
  });

  it("puts LedgerCreated before the first event of an empty ledger, so that event is seq 2", () => {
    const result = given([], { empty: true })
      .when({ type: "EngageKillSwitch", governance: operator() })
      .then([{ type: "LedgerCreated" }, { type: "KillSwitchEngaged" }]);
    expect(result).toMatchObject({ changed: true, seq: 2 });
  });
});

describe("decide: ApplyRegistry", () => {
  it("records the normalized policy with its change class and governance", () => {
    const result = given([])
      .when({ type: "ApplyRegistry", registry: guardedRegistry() })
      .then([{ type: "PolicyApplied", actor: "alice" }]);
    expect(result).toMatchObject({ ok: true, change: "autonomous_policy_initialized", seq: 2 });
  });

  it("records nothing for an identical re-apply", () => {
    const result = given([{ type: "ApplyRegistry", registry: guardedRegistry() }])
      .when({ type: "ApplyRegistry", registry: guardedRegistry() })
      .then([]);
    expect(result).toMatchObject({ ok: true, change: null, seq: null });
  });

  it("fails closed on guarded_auto governance without its review deadline", () => {
    const registry = guardedRegistry({ governance: { reviewBy: undefined } });
    given([]).when({ type: "ApplyRegistry", registry }).thenRejects("INVALID_INPUT");
  });
});

describe("decide: Observe and Evaluate", () => {
  it("refuses a fleet state that is not JSON, saying so", () => {
    const [error] = given([]).when({ type: "Observe", fleetState: "{not json" }).thenRejects("INVALID_INPUT", ["(root)"]);
    expect(error?.message).toMatch(/^fleet state is not valid JSON/);
  });

  it("evaluates only against a policy and an observation", () => {
    given([]).when({ type: "Evaluate" }).thenRejects("PRECONDITION");
    given([{ type: "ApplyRegistry", registry: guardedRegistry() }])
      .when({ type: "Evaluate" })
      .thenRejects("PRECONDITION");
  });

  it("carries the observation's trace into the evaluation when none is given", () => {
    const { evaluation } = given(evaluated.slice(0, 2))
      .when({ type: "Evaluate" })
      .then([{ type: "PolicyEvaluated", traceId: "reconcile-7" }]);
    expect(evaluation.candidates.map((c) => [c.candidateId, c.eligible])).toEqual([["loop-red:health_critical", true]]);
  });
});

describe("decide: RequestDispatch", () => {
  it("dispatches nothing before an evaluation", () => {
    given([{ type: "ApplyRegistry", registry: guardedRegistry() }])
      .when(autonomous)
      .thenRejects("PRECONDITION");
  });

  it("requests the auto-eligible intents of the plan, recorded before any dispatcher call", () => {
    const { batch, traceId } = given(evaluated)
      .when(autonomous)
      .then([{ type: "DispatchRequested", actor: "ops-bot" }]);
    expect(batch.targets.map((t) => t.intentId)).toEqual(["loop-red:health_critical:cancel"]);
    expect(traceId).toBe("reconcile-7");
  });

  it("re-checks the kill switch engaged after the evaluation: the batch has no intent", () => {
    const { batch } = given([...evaluated, { type: "EngageKillSwitch", governance: operator() }])
      .when(autonomous)
      .then([{ type: "DispatchRequested" }]);
    expect(batch.targets).toEqual([]);
  });

  it("keeps autonomy to guarded_auto, and manual dispatch to an operator's explicit confirmation", () => {
    given([
      { type: "ApplyRegistry", registry: guardedRegistry({ mode: "advisory" }) },
      { type: "Observe", fleetState: critical },
      { type: "Evaluate" },
    ])
      .when(autonomous)
      .thenRejects("INVALID_INPUT", ["mode"]);
    const manual = { type: "RequestDispatch", mode: "manual", by: "carol", intentIds: ["loop-red:health_critical:cancel"] } as const;
    given(evaluated).when(manual).thenRejects("INVALID_INPUT", ["confirm"]);
    given(evaluated)
      .when({ ...manual, confirm: true, intentIds: ["nope"] })
      .thenRejects("INVALID_INPUT", ["intentIds"]);
    given(evaluated)
      .when({ ...manual, confirm: true })
      .then([{ type: "DispatchRequested", actor: "carol" }]);
  });
});

describe("decide: RecordOutcomes and AcknowledgeIntent", () => {
  const dispatched = given([...evaluated, autonomous]);
  const [batchId] = [...dispatched.state.fleet.openBatches.keys()];
  const outcome = (status: "executed" | "ambiguous" | "failed") => ({
    type: "DispatchCompleted" as const,
    data: {
      batchId: batchId as string,
      intentId: "loop-red:health_critical:cancel",
      instance: 1,
      status,
      reasonCode: `fleet_handoff_${status === "executed" ? "executed" : `execution_${status}`}`,
      confirmed: status === "executed",
      transport: null,
      durationMs: 3,
    },
  });

  it("records an outcome once: one already in the log is left out", () => {
    expect(dispatched.when({ type: "RecordOutcomes", outcomes: [outcome("executed")] }).then([{ type: "DispatchCompleted" }])).toEqual({
      recorded: 1,
    });
    const recorded = given([...evaluated, autonomous, outcome("executed")]);
    expect(recorded.when({ type: "RecordOutcomes", outcomes: [outcome("executed")] }).then([])).toEqual({ recorded: 0 });
  });

  it("trips the auto-pause latch on a batch's own ambiguous outcomes, so its next intent halts", () => {
    // the default auto-pause: min sample 1, so one ambiguous outcome in one is a 100 % spike
    const tripping = given([
      { type: "ApplyRegistry", registry: guardedRegistry({ rollout: { autoPause: { minSampleSize: 1 } } }) },
      ...evaluated.slice(1),
      autonomous,
    ]);
    const batchSeq = tripping.state.seq;
    tripping
      .when({ type: "RecordOutcomes", outcomes: [outcome("ambiguous")], tripCheck: { batchSeq, statuses: ["ambiguous"] } })
      .then([{ type: "DispatchCompleted" }, { type: "AutoPauseTripped" }]);
  });

  it("acknowledges only an intent with an open ambiguous, failed or in-flight outcome, and says who", () => {
    const ack = { type: "AcknowledgeIntent", intentId: "loop-red:health_critical:cancel", by: "carol" } as const;
    given(evaluated).when(ack).thenRejects("PRECONDITION", ["intentId"]);
    given([...evaluated, autonomous, outcome("executed")])
      .when(ack)
      .thenRejects("PRECONDITION", ["intentId"]);
    given([...evaluated, autonomous, outcome("ambiguous")])
      .when({ ...ack, by: "" })
      .thenRejects("INVALID_INPUT", ["by"]);
    given([...evaluated, autonomous, outcome("ambiguous")])
      .when(ack)
      .then([
        {
          type: "IntentAcknowledged",
          data: { intentId: ack.intentId, instance: 1, by: "carol", outcome: "execution_ambiguous" },
          actor: "carol",
        },
      ]);
  });
});

describe("the decider specification itself", () => {
  it("fails a rule that does not hold, with the difference, instead of passing it", () => {
    const spec = given([]).when({ type: "EngageKillSwitch", governance: operator() });
    expect(() => spec.then([{ type: "RolloutPaused" }])).toThrow(/decided other events than expected/);
    expect(() => spec.then([])).toThrow(/decided other events than expected/);
    expect(() => spec.thenRejects("INVALID_INPUT")).toThrow(/was decided, not rejected/);
    expect(() => given([]).when({ type: "Evaluate" }).thenRejects("INVALID_INPUT")).toThrow(/rejected otherwise than expected/);
  });

  it("refuses to be awaited, since it decides synchronously", async () => {
    const spec: unknown = given([]).when({ type: "Evaluate" });
    await expect((async () => await spec)()).rejects.toThrow(/use it without await/);
  });
});
