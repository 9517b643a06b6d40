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
  const next = monotonicFactory(pooledRandom());
  return { next: () => next(clock.now().getTime()) };
}

// The ulid package's own source asks the system for one random byte per character (16 calls per
// id, a fifth of a command's CPU here); this draws the same bytes from the same CSPRNG 4 KiB at a
// time. Each value is a byte / 256, as the package's own source gives.
function pooledRandom(): () => number {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      crypto.getRandomValues(pool);
      next = 0;
    }
    return (pool[next++] as number) / 256;
  };
}

/** How a command that lost a race to another writer is retried. */
export interface RetryPolicy {
  /** How long a command keeps re-deciding on fresh state after lost races, in all; defaults to 60 s (writers in tight loops on a slow shared store can wait seconds for a turn; most commands win at once). */
  readonly budgetMs?: number;
  /** The first wait's upper bound; each later one doubles, up to `maxDelayMs`. Defaults to 1 ms. */
  readonly firstDelayMs?: number;
  /** The longest wait between two attempts; defaults to two attempts' time (at least 2 ms, at most 250 ms). */
  readonly maxDelayMs?: number;
}

/** The default time budget for re-deciding after lost races. */
export const DEFAULT_CONFLICT_BUDGET_MS = 60_000;

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
    startingDelay: policy.firstDelayMs ?? 1,
    maxDelay: policy.maxDelayMs ?? 250,
    timeMultiple: 2,
    numOfAttempts: Number.MAX_SAFE_INTEGER,
    retry: (error: unknown) => shouldRetry(error, performance.now() - started),
  });
}

/**
 * Pacing of one ledger's commands against other writers of its stream. Two things:
 *
 * - Backoff on the scale of its own attempts: a store that answers in 1 ms and one that answers
 *   in 30 ms want different waits, and a cap far above one attempt's time makes a writer that lost
 *   a few times sit out every later race (the winner goes again at once). First wait up to 1 ms,
 *   doubling, capped at two attempts' time.
 * - Fair turns. The writer that just won goes again at once while the losers first read what it
 *   wrote, so in tight loops one writer wins every race and the others starve (measured: 4
 *   ledgers on one S3 prefix, one command waited 28 s). So a writer that saw a rival lately (a
 *   rival's record folded, or a race lost, in the last second) waits a random moment of up to two
 *   attempts before each command; and since the winner cannot see the losers, a writer that has
 *   won 16 back-to-back commands in a row yields once the same way, so a loser gets in and is seen.
 *   Commands that do not follow each other closely never wait: a writer alone pays at most one
 *   such yield per 16 commands of a tight loop.
 */
export interface Pacer {
  /** One attempt (catch up, decide, append) took this long, and won its race or lost it. */
  attempted(ms: number, won: boolean): void;
  /** A rival's record was folded. */
  sawRival(): void;
  /** Waits, if this writer should let others go first, before its next command. */
  turn(): Promise<void>;
  /** The retry policy for the next lost race: the caller's values, else scaled to the attempts seen. */
  backoff(policy: RetryPolicy): RetryPolicy;
  /** Milliseconds on a monotonic clock. */
  now(): number;
}

const RIVAL_MEMORY_MS = 1000;
const STREAK = 16;

/** A pacer on the monotonic clock and `Math.random`. */
export function pacer(): Pacer {
  let attemptMs = 1;
  let lastRival = Number.NEGATIVE_INFINITY;
  let lastDone = Number.NEGATIVE_INFINITY;
  let streak = 0;
  // the last winner also waits out about what the losers spend reading what it wrote
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, (streak > 0 ? attemptMs / 2 : 0) + Math.random() * 2 * attemptMs));
  return {
    attempted: (ms, won) => {
      attemptMs = attemptMs * 0.8 + ms * 0.2;
      lastDone = performance.now();
      if (won) streak++;
      else {
        streak = 0;
        lastRival = lastDone;
      }
    },
    sawRival: () => {
      streak = 0;
      lastRival = performance.now();
    },
    turn: () => {
      const now = performance.now();
      if (now - lastRival < RIVAL_MEMORY_MS) return pause();
      if (streak >= STREAK && now - lastDone < attemptMs) {
        const yielded = pause();
        streak = 0;
        return yielded;
      }
      return Promise.resolve();
    },
    backoff: (policy) => ({
      ...policy,
      firstDelayMs: policy.firstDelayMs ?? 1,
      maxDelayMs: policy.maxDelayMs ?? Math.min(250, Math.max(2, 2 * attemptMs)),
    }),
    now: () => performance.now(),
  };
}
