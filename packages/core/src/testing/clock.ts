import type { Clock, IdGenerator } from "../system.ts";

/** A clock that stands still until told: `set()` or `advance()`. Optionally steps on every read. */
export interface ManualClock extends Clock {
  set(time: string | Date): void;
  advance(ms: number): void;
}

/** A clock fixed at `start` that moves only when told (or by `stepMs` on every `now()`). */
export function fixedClock(start: string | Date, stepMs = 0): ManualClock {
  let current = new Date(start).getTime();
  if (Number.isNaN(current)) throw new RangeError(`fixedClock: not a time: ${String(start)}`);
  return {
    now() {
      const now = new Date(current);
      current += stepMs;
      return now;
    },
    set(time) {
      current = new Date(time).getTime();
    },
    advance(ms) {
      current += ms;
    },
  };
}

/** Ids `<prefix>-000001`, `<prefix>-000002`, …: deterministic, so replays and tests give the same bytes. */
export function sequentialIds(prefix = "id"): IdGenerator {
  let n = 0;
  return { next: () => `${prefix}-${String(++n).padStart(6, "0")}` };
}
