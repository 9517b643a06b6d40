// Calling a dispatcher: the one place the core waits on the outside world. The outcome mapping is
// deterministic given the dispatcher's report; the timer is the only non-pure part (a dispatcher
// that never answers must end as ambiguous, not hang the batch).
import type { DispatchCompleted } from "../events/fleet-events.ts";
import type { Clock } from "../system.ts";
import type { PlannedIntent } from "./plan.ts";
import type { ReasonCode } from "./reason-codes.ts";

/** What a dispatcher says of one intent. */
export interface DispatchReport {
  /**
   * confirmed: the effect was observed; unconfirmed: the command ran but nobody checked;
   * ambiguous: the effect is unknown; failed: it did not happen.
   */
  readonly status: "confirmed" | "unconfirmed" | "ambiguous" | "failed";
  /** For transport faults: the transport's reason (`service_unreachable`, `http_503`, …). */
  readonly transport?: string;
  readonly detail?: string;
  /**
   * What the dispatcher printed or received (a control command's stdout and stderr), bounded by
   * the dispatcher. Returned to the caller with the batch, never recorded: an append-only log is
   * no place for output that may hold a secret.
   */
  readonly output?: string;
}

/** What a dispatcher gets besides the intent. */
export interface DispatchContext {
  readonly traceId: string | null;
  /** Stable per intent instance: a receiver deduplicates repeated dispatches of the same instance with it. */
  readonly idempotencyKey: string;
  /** Aborted when the dispatch times out. */
  readonly signal: AbortSignal;
}

/** Carries out one intent (cancel a loop run, …) and reports how it went. A throw counts as failed. */
export type Dispatcher = (intent: PlannedIntent, context: DispatchContext) => Promise<DispatchReport>;

/** The recorded outcome of a dispatcher report (semantics §2 #7, #8). */
export function outcomeOf(report: DispatchReport): Pick<DispatchCompleted, "status" | "confirmed"> & { readonly reasonCode: ReasonCode } {
  switch (report.status) {
    case "confirmed":
      return { status: "executed", reasonCode: "control_confirmed", confirmed: true };
    case "unconfirmed":
      return { status: "executed", reasonCode: "control_executed_unconfirmed", confirmed: false };
    case "ambiguous":
      return { status: "ambiguous", reasonCode: "control_ambiguous", confirmed: false };
    default:
      return { status: "failed", reasonCode: "control_failed_command", confirmed: false };
  }
}

const TIMED_OUT = Symbol("timed out");

/**
 * Calls the dispatcher with a timeout and maps what happens to an outcome: a report as it says,
 * a throw as failed, a timeout as ambiguous (after aborting the dispatcher through `signal`).
 */
export async function runDispatcher(
  dispatcher: Dispatcher,
  intent: PlannedIntent,
  context: { readonly traceId: string | null; readonly timeoutMs: number; readonly clock: Clock },
): Promise<{ readonly recorded: Omit<DispatchCompleted, "batchId" | "intentId" | "instance">; readonly output?: string }> {
  const controller = new AbortController();
  const started = context.clock.now().getTime();
  let cancelTimer = (): void => undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    // biome-ignore lint/style/noRestrictedGlobals: the one timer of the core, so a silent dispatcher ends ambiguous
    const timer = setTimeout(() => resolve(TIMED_OUT), context.timeoutMs);
    cancelTimer = () => clearTimeout(timer);
  });
  const elapsed = () => Math.max(0, context.clock.now().getTime() - started);
  try {
    const call = dispatcher(intent, { traceId: context.traceId, idempotencyKey: intent.idempotencyKey, signal: controller.signal });
    const report = await Promise.race([call, timeout]);
    if (report === TIMED_OUT) {
      controller.abort(new Error(`dispatch timed out after ${context.timeoutMs} ms`));
      call.catch(() => undefined); // it may still settle; the outcome is already decided
      return {
        recorded: {
          status: "ambiguous",
          reasonCode: "control_ambiguous",
          confirmed: false,
          transport: null,
          detail: `timed out after ${context.timeoutMs} ms`,
          durationMs: elapsed(),
        },
      };
    }
    return {
      recorded: {
        ...outcomeOf(report),
        transport: report.transport ?? null,
        ...(report.detail ? { detail: report.detail } : {}),
        durationMs: elapsed(),
      },
      ...(report.output === undefined ? {} : { output: report.output }),
    };
  } catch (error) {
    return {
      recorded: {
        status: "failed",
        reasonCode: "control_failed_command",
        confirmed: false,
        transport: null,
        detail: error instanceof Error ? error.message : String(error),
        durationMs: elapsed(),
      },
    };
  } finally {
    cancelTimer();
  }
}
