import { isOpsledgerError, UnprovableLogError } from "@opsledger/core";

/** The CLI's exit codes (architecture §4), one table. */
export const EXIT = {
  ok: 0,
  /** refused or invalid input; every message is printed */
  refused: 1,
  usage: 2,
  /** verification found a break */
  broken: 3,
  /** store unavailable, or a conflict after retries */
  store: 4,
  /** dispatch completed and recorded, but some intents failed or were ambiguous */
  partial: 5,
} as const;

/** A usage error: a bad flag, a missing argument. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A refusal with every message (invalid input, refused command). */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
  readonly issues: readonly { readonly path: string; readonly message: string }[];
  constructor(summary: string, issues: readonly { readonly path: string; readonly message: string }[] = []) {
    super(summary);
    this.issues = issues;
  }
}

/** The exit code for an error that reached the top. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof RefusedError) return EXIT.refused;
  // a log that cannot be signed or proved: a break when verification found one
  if (error instanceof UnprovableLogError) return error.breaks.length > 0 ? EXIT.broken : EXIT.refused;
  if (isOpsledgerError(error, "CHAIN_INTEGRITY") || isOpsledgerError(error, "STORE_INTEGRITY")) return EXIT.broken;
  if (isOpsledgerError(error, "STORE_UNAVAILABLE") || isOpsledgerError(error, "STREAM_CONFLICT") || isOpsledgerError(error, "STORE_CLOSED"))
    return EXIT.store;
  if (isOpsledgerError(error)) return EXIT.refused;
  return EXIT.refused;
}
