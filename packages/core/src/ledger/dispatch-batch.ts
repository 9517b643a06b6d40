// One dispatch batch, run by the ledger: the decider decides the batch (`RequestDispatch`) and
// each fact (`RecordOutcomes`); this module calls the dispatcher in between and re-reads the log
// before every autonomous intent, so a kill switch or pause set meanwhile, by anyone, halts the rest.
import type { UnrecordedOutcome } from "../errors.ts";
import type { FleetCommand, FleetCommandResults } from "../fleet/decide.ts";
import { type Dispatcher, runDispatcher } from "../fleet/dispatch.ts";
import type { DispatchBatch, DispatchResultEntry } from "../fleet/dispatch-commands.ts";
import { sortedUnique } from "../fleet/order.ts";
import type { Plan } from "../fleet/plan.ts";
import type { ReasonCode } from "../fleet/reason-codes.ts";
import type { Clock } from "../system.ts";
import type { Outcome } from "./outcome.ts";

/** Options of `dispatch`. */
export type DispatchOptions = {
  readonly dispatcher: Dispatcher;
  /** Who dispatches (an operator, or the service running autonomy); defaults to "unknown". */
  readonly by?: string;
  readonly note?: string;
  /** The trace of this dispatch; defaults to the evaluation's. */
  readonly traceId?: string;
  /** How long a dispatcher may take before the intent is recorded ambiguous; defaults to 30 s. */
  readonly timeoutMs?: number;
} & (
  | { readonly mode: "autonomous" }
  | {
      readonly mode: "manual";
      readonly intentIds: readonly string[];
      readonly confirm: boolean;
      /** Run intents again that were already executed; without it they are refused. */
      readonly again?: boolean;
    }
);

/** What a batch needs of its ledger: each call runs in the ledger's pump, on the log as it is now. */
export interface BatchLedger {
  readonly clock: Clock;
  request(command: Extract<FleetCommand, { type: "RequestDispatch" }>): Promise<Outcome<FleetCommandResults["RequestDispatch"]>>;
  /** Why autonomy is halted now (empty when it is not). */
  haltReasons(): Promise<readonly string[]>;
  /** Records facts (and the auto-pause trip they bring); throws `OutcomeNotRecordedError` when the store refuses them. */
  recordFacts(
    outcomes: readonly UnrecordedOutcome[],
    tripCheck?: Extract<FleetCommand, { type: "RecordOutcomes" }>["tripCheck"],
  ): Promise<number>;
  plan(traceId: string | null): Promise<Plan>;
}

/**
 * Dispatches a batch: `DispatchRequested` first, then each intent's dispatcher call and its
 * outcome; autonomy re-reads the log before every intent and halts the rest when it must.
 */
export async function dispatchBatch(ledger: BatchLedger, dispatchOptions: DispatchOptions): Promise<DispatchBatch> {
  const by = dispatchOptions.by ?? "unknown";
  const requested = await ledger.request({
    type: "RequestDispatch",
    mode: dispatchOptions.mode,
    ...(dispatchOptions.mode === "manual"
      ? { intentIds: dispatchOptions.intentIds, confirm: dispatchOptions.confirm, again: dispatchOptions.again === true }
      : {}),
    by,
    ...(dispatchOptions.note === undefined ? {} : { note: dispatchOptions.note }),
    ...(dispatchOptions.traceId === undefined ? {} : { traceId: dispatchOptions.traceId }),
  });
  if ("rejected" in requested) return { ok: false, errors: requested.rejected.errors };
  const { batch, traceId } = requested.result;
  const autonomous = dispatchOptions.mode === "autonomous";
  const tracing = traceId ? { traceId } : {};
  const results: DispatchResultEntry[] = [];
  const skipped: { intentId: string; loopId: string; reasonCodes: readonly string[] }[] = [];
  for (const [index, intent] of batch.targets.entries()) {
    if (autonomous) {
      // halt means halt: the log as it is now (this process or any replica) decides whether this intent still goes
      const halt = await ledger.haltReasons();
      if (halt.length > 0) {
        const rest = batch.targets.slice(index);
        await ledger.recordFacts(
          rest.map((t) => ({
            type: "DispatchSkipped" as const,
            data: { batchId: batch.batchId, intentId: t.intentId, instance: t.instance, reasonCodes: halt },
            actor: by,
            ...tracing,
          })),
        );
        for (const t of rest) skipped.push({ intentId: t.intentId, loopId: t.loopId, reasonCodes: halt });
        break;
      }
    }
    const { recorded: outcome, output } = await runDispatcher(dispatchOptions.dispatcher, intent, {
      traceId,
      timeoutMs: dispatchOptions.timeoutMs ?? 30_000,
      clock: ledger.clock,
    });
    const data = { batchId: batch.batchId, intentId: intent.intentId, instance: intent.instance, ...outcome };
    results.push({
      intentId: intent.intentId,
      loopId: intent.loopId,
      status: outcome.status,
      reasonCode: outcome.reasonCode,
      confirmed: outcome.confirmed,
      transport: outcome.transport,
      ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
      ...(output === undefined ? {} : { output }),
    });
    // the batch's own outcomes may already be a spike: the latch trips with this outcome, so the next intent halts
    const tripCheck =
      autonomous && index < batch.targets.length - 1
        ? { batchSeq: batch.seq, statuses: results.map((r) => r.status), ...tracing }
        : undefined;
    await ledger.recordFacts([{ type: "DispatchCompleted", data, actor: by, ...tracing }], tripCheck);
  }
  const after = await ledger.plan(traceId);
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const outcomeCodes: ReasonCode[] = [
    ...(count("executed") > 0 ? (["fleet_handoff_executed"] as const) : []),
    ...(count("ambiguous") > 0 ? (["fleet_handoff_execution_ambiguous"] as const) : []),
    ...(count("failed") > 0 ? (["fleet_handoff_execution_failed"] as const) : []),
  ];
  return {
    ok: true,
    batchId: batch.batchId,
    seq: batch.seq,
    mode: dispatchOptions.mode,
    requestedIntentCount: batch.targets.length,
    executedCount: count("executed"),
    ambiguousCount: count("ambiguous"),
    failedCount: count("failed"),
    skippedCount: skipped.length,
    results,
    skipped,
    intents: after.intents,
    summary: after.summary,
    reasonCodes: sortedUnique([...after.reasonCodes, ...outcomeCodes, ...skipped.flatMap((s) => s.reasonCodes)]),
  };
}
