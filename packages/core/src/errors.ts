/** Registry symbol, so the guard also works across duplicate copies of this package. */
const ERROR_BRAND: unique symbol = Symbol.for("@opsledger/core/error");

/** Every code an opsledger error can carry; part of the public API (docs/reference/errors.md). */
export type ErrorCode =
  | "STREAM_CONFLICT"
  | "CHAIN_INTEGRITY"
  | "INVALID_EVENT"
  | "INVALID_VALUE"
  | "INVALID_STREAM_ID"
  | "INVALID_APPEND"
  | "INVALID_REGISTRY"
  | "STORE_UNAVAILABLE"
  | "STORE_CLOSED"
  | "STORE_INTEGRITY"
  | "PRECONDITION"
  | "OUTCOME_NOT_RECORDED";

/** Base of every error opsledger throws; identify it with `isOpsledgerError`, not `instanceof`. */
export class OpsledgerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
Object.defineProperty(OpsledgerError.prototype, ERROR_BRAND, { value: true });
Object.defineProperty(OpsledgerError.prototype, "name", { value: "OpsledgerError", writable: true });

/** True for any opsledger error (optionally of one code), even from another copy of the package. */
export const isOpsledgerError = (error: unknown, code?: ErrorCode): error is OpsledgerError =>
  error instanceof Error && ERROR_BRAND in error && (code === undefined || ("code" in error && (error as { code: unknown }).code === code));

/** Another writer appended first: the stream's head is not the `expectedSeq` the caller built on. */
export class StreamConflictError extends OpsledgerError {
  override readonly name = "StreamConflictError";
  readonly streamId: string;
  readonly expectedSeq: number;
  readonly actualSeq: number | undefined;
  constructor(streamId: string, expectedSeq: number, actualSeq: number | undefined, options?: ErrorOptions) {
    const found = actualSeq === undefined ? "a different head" : `seq ${actualSeq}`;
    super("STREAM_CONFLICT", `stream "${streamId}": expected seq ${expectedSeq}, found ${found}`, options);
    this.streamId = streamId;
    this.expectedSeq = expectedSeq;
    this.actualSeq = actualSeq;
  }
}

/** A value cannot be canonicalized without being mangled; `path` names where (e.g. `data.loops[3].id`). */
export class InvalidValueError extends OpsledgerError {
  override readonly name = "InvalidValueError";
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super("INVALID_VALUE", `${path || "(root)"}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** One problem with an input document, at a JSON path. */
export interface Issue {
  readonly path: string;
  /** What is wrong; for a registry, the reference's text verbatim where it has one. */
  readonly message: string;
  /** More about it (the values that failed, the allowed ones, a hint), kept out of the message. */
  readonly detail?: string;
}

/** An event of an unknown type or with data that does not match its schema was refused before append. */
export class InvalidEventError extends OpsledgerError {
  override readonly name = "InvalidEventError";
  readonly eventType: string;
  readonly issues: readonly Issue[];
  constructor(eventType: string, issues: readonly Issue[]) {
    const first = issues[0];
    const summary = first ? `${first.path || "(root)"}: ${first.message}` : "invalid";
    const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : "";
    super("INVALID_EVENT", `event ${eventType}: ${summary}${more}`);
    this.eventType = eventType;
    this.issues = issues;
  }
}

/** A stream id that is empty, too long, or could escape a store's namespace. */
export class InvalidStreamIdError extends OpsledgerError {
  override readonly name = "InvalidStreamIdError";
  readonly streamId: string;
  constructor(streamId: string, reason: string) {
    super("INVALID_STREAM_ID", `stream id ${JSON.stringify(streamId)}: ${reason}`);
    this.streamId = streamId;
  }
}

/** An append request that breaks the port's contract (seqs not consecutive from `expectedSeq + 1`, empty batch). */
export class InvalidAppendError extends OpsledgerError {
  override readonly name = "InvalidAppendError";
  constructor(message: string) {
    super("INVALID_APPEND", message);
  }
}

/**
 * The store failed for a reason other than a conflict; `cause` keeps the original error. A failed
 * append is not visible after reopen, unless `indeterminate` says the store could not take it back
 * (the store then refuses further appends until it is reopened, and the append may or may not be there).
 */
export class StoreUnavailableError extends OpsledgerError {
  override readonly name = "StoreUnavailableError";
  readonly adapter: string;
  readonly operation: string;
  readonly streamId: string | undefined;
  readonly indeterminate: boolean;
  constructor(adapter: string, operation: string, streamId: string | undefined, options?: ErrorOptions & { indeterminate?: boolean }) {
    const where = streamId === undefined ? "" : ` stream "${streamId}"`;
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    const unknown = options?.indeterminate ? " (it could not be taken back: it may be in the log after reopen)" : "";
    super("STORE_UNAVAILABLE", `${adapter} store ${operation}${where} failed${why}${unknown}`, options);
    this.adapter = adapter;
    this.operation = operation;
    this.streamId = streamId;
    this.indeterminate = options?.indeterminate === true;
  }
}

/** The store was closed; every later call rejects with this. */
export class StoreClosedError extends OpsledgerError {
  override readonly name = "StoreClosedError";
  constructor(adapter: string) {
    super("STORE_CLOSED", `${adapter} store is closed`);
  }
}

/** Stored data is damaged in a way the store will not repair (not a torn tail); names the seq and where. */
export class StoreIntegrityError extends OpsledgerError {
  override readonly name = "StoreIntegrityError";
  readonly streamId: string;
  readonly seq: number | undefined;
  readonly location: string | undefined;
  constructor(streamId: string, seq: number | undefined, location: string | undefined, detail: string) {
    const at = seq === undefined ? "" : ` at seq ${seq}`;
    const where = location === undefined ? "" : ` (${location})`;
    super("STORE_INTEGRITY", `stream "${streamId}"${at}${where}: ${detail}`);
    this.streamId = streamId;
    this.seq = seq;
    this.location = location;
  }
}

/** A chain break met while folding a log (replay refuses to fold past damage; verify reports instead). */
export class ChainIntegrityError extends OpsledgerError {
  override readonly name = "ChainIntegrityError";
  readonly streamId: string;
  readonly seq: number;
  readonly kind: string;
  constructor(streamId: string, seq: number, kind: string, detail: string) {
    super("CHAIN_INTEGRITY", `stream "${streamId}" seq ${seq}: ${kind}: ${detail}`);
    this.streamId = streamId;
    this.seq = seq;
    this.kind = kind;
  }
}

/** A registry document failed validation; `issues` lists every problem with its JSON path. */
export class InvalidRegistryError extends OpsledgerError {
  override readonly name = "InvalidRegistryError";
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[]) {
    super(
      "INVALID_REGISTRY",
      `registry is invalid (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${issues
        .map((issue) => `- ${issue.path}: ${issue.message}`)
        .join("\n")}`,
    );
    this.issues = issues;
  }
}

/** A command that needs something the ledger does not have yet (a policy, an observation, an evaluation). */
export class PreconditionError extends OpsledgerError {
  override readonly name = "PreconditionError";
  constructor(message: string) {
    super("PRECONDITION", message);
  }
}

/** A dispatch outcome that the store did not take (it is unavailable); carried so the caller can record it later. */
export interface UnrecordedOutcome {
  readonly type: "DispatchCompleted" | "DispatchSkipped";
  readonly data: Readonly<Record<string, unknown>> & { readonly batchId: string; readonly intentId: string; readonly instance: number };
  readonly actor?: string;
  readonly traceId?: string;
}

/**
 * A dispatcher ran (or an intent was halted) but the store refused the record of it for a reason
 * other than a race: the effect happened, the log does not say so yet. `outcomes` holds every
 * record not written; pass them to `ledger.recordOutcomes(error.outcomes)` once the store is back.
 * `cause` is the store's error.
 */
export class OutcomeNotRecordedError extends OpsledgerError {
  override readonly name = "OutcomeNotRecordedError";
  readonly outcomes: readonly UnrecordedOutcome[];
  constructor(outcomes: readonly UnrecordedOutcome[], options?: ErrorOptions) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    const ids = outcomes.map((o) => o.data.intentId).join(", ");
    super("OUTCOME_NOT_RECORDED", `the outcome of ${ids} was not recorded${why}; record it with ledger.recordOutcomes()`, options);
    this.outcomes = outcomes;
  }
}
