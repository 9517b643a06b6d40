import type { Issue } from "../errors.ts";
import { PreconditionError } from "../errors.ts";
import type { Rejection } from "../fleet/decision.ts";

/** What a command settles with in the ledger: its result, or the decider's rejection. */
export type Outcome<R> = { readonly result: R } | { readonly rejected: Rejection };

/** The result, or the rejection thrown as a `PreconditionError` (for commands without an `{ ok: false }` answer). */
export function resultOf<R>(outcome: Outcome<R>): R {
  if ("rejected" in outcome) throw new PreconditionError(outcome.rejected.errors.map((issue) => issue.message).join("; "));
  return outcome.result;
}

/** The result, or the rejection as the `{ ok: false, errors }` the command methods answer with. */
export function orErrors<R>(outcome: Outcome<R>): R | { readonly ok: false; readonly errors: readonly Issue[] } {
  return "rejected" in outcome ? { ok: false, errors: outcome.rejected.errors } : outcome.result;
}
