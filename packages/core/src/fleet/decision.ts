import type { Issue } from "../errors.ts";
import type { NewEvent } from "../events/catalogue.ts";

/** Why the decider refused a command: its input is invalid, or the ledger's state does not allow it yet. */
export type RejectionCode = "INVALID_INPUT" | "PRECONDITION";

/** A command the decider refused, with every problem (each names its field). Nothing is appended. */
export interface Rejection {
  readonly code: RejectionCode;
  readonly errors: readonly Issue[];
}

/**
 * What deciding a command gives: the events to append (none is fine: nothing to change) and the
 * command's result, or a rejection. `create` writes `LedgerCreated` even with no events (`init`).
 */
export type Decision<Result> =
  | { readonly events: readonly NewEvent[]; readonly result: Result; readonly create?: boolean }
  | { readonly rejected: Rejection };

/** The answer of a command whose result is `{ ok: true, … } | { ok: false, errors }`, once accepted (a rejection carries the errors). */
export type Accepted<Result> = Extract<Result, { readonly ok: true }>;

/** What a decision may use besides the state: injected, so the same log and context decide the same. */
export interface DecideContext {
  /** The decision's time (never earlier than the last event's: the ledger sees to it). */
  readonly now: Date;
  /** A fresh id (evaluations, batches). */
  newId(): string;
}

/** The context a command's own decider gets: also the seq its first event will have. */
export interface CommandContext extends DecideContext {
  readonly firstSeq: number;
}

export const isRejected = <R>(decision: Decision<R>): decision is { readonly rejected: Rejection } => "rejected" in decision;

export const reject = (code: RejectionCode, errors: readonly Issue[]): { readonly rejected: Rejection } => ({ rejected: { code, errors } });
