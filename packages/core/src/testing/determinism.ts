import type { LedgerState } from "../fleet/ledger-state.ts";

/** A small seeded generator of numbers in [0, 1) (mulberry32), so a failing campaign trial can be run again. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A ledger state as comparable text: maps become their entries (in order), objects their keys sorted. */
export const stateFingerprint = (state: LedgerState): string =>
  JSON.stringify(state, (_key, value) => {
    if (value instanceof Map) return [...value.entries()];
    if (value && typeof value === "object" && !Array.isArray(value))
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)));
    return value;
  });
