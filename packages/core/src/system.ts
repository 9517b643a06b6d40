// The only module of the core that reads the wall clock or randomness: the defaults a ledger
// uses when the caller injects no clock or id generator, and the timing of retries after a lost
// race (how long to wait, and for how long in all). None of it reaches a recorded byte.
import { backOff } from "exponential-backoff";
import { monotonicFactory } from "ulid";

/** A source of time. */
export interface Clock {
  now(): Date;
}

/** A source of unique, sortable ids. */
export interface IdGenerator {
  next(): string;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/**
 * ULIDs from the `ulid` package's monotonic factory, timed by `clock`: ids made in the same
 * millisecond (or after the clock stepped back) still sort in the order they were made.
 */
export function ulidGenerator(clock: Clock = systemClock): IdGenerator {
  const next = monotonicFactory();
  return { next: () => next(clock.now().getTime()) };
}

/** How a command that lost a race to another writer is retried. */
export interface RetryPolicy {
  /** How long a command keeps re-deciding on fresh state after lost races, in all; defaults to 30 s. */
  readonly budgetMs?: number;
  /** The first wait's upper bound; each later one doubles, up to `maxDelayMs`. Defaults to 2 ms. */
  readonly firstDelayMs?: number;
  /** The longest wait between two attempts; defaults to 250 ms. */
  readonly maxDelayMs?: number;
}

/** The default time budget for re-deciding after lost races. */
export const DEFAULT_CONFLICT_BUDGET_MS = 30_000;

/**
 * Runs `attempt` until it succeeds, waiting between attempts with exponential backoff and full
 * jitter (a random wait between 0 and the current bound, so racing writers spread out instead of
 * colliding again in step). `shouldRetry` sees each error and the milliseconds spent so far; it
 * says whether to go on, so the caller owns the budget and which errors are retried.
 */
export function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  shouldRetry: (error: unknown, elapsedMs: number) => boolean,
): Promise<T> {
  const started = performance.now();
  return backOff(attempt, {
    jitter: "full",
    startingDelay: policy.firstDelayMs ?? 2,
    maxDelay: policy.maxDelayMs ?? 250,
    timeMultiple: 2,
    numOfAttempts: Number.MAX_SAFE_INTEGER,
    retry: (error: unknown) => shouldRetry(error, performance.now() - started),
  });
}
