import { sha256Prefix64, sha256Prefix64Mod } from "../chain/hash.ts";
import type { Rollout } from "../contract/normalized-registry.ts";
import { compareCodePoints } from "./order.ts";
import type { ReasonCode } from "./reason-codes.ts";

/** Reason codes of the rollout's scope and canary gates (reference §2.6.1). */
export const SCOPE_EXCLUDED: ReasonCode = "autonomous_rollout_scope_excluded";
export const CANARY_EXCLUDED: ReasonCode = "autonomous_rollout_canary_excluded";

// shared, frozen: one result per loop is allocated, not one reason list per loop
const SCOPE_REASONS: readonly ReasonCode[] = Object.freeze([SCOPE_EXCLUDED]);
const CANARY_REASONS: readonly ReasonCode[] = Object.freeze([CANARY_EXCLUDED]);
const NO_REASONS: readonly ReasonCode[] = Object.freeze([]);

/** Where a loop stands in the rollout, without its id (the rollout block of a recorded decision). */
export interface CohortPlacement {
  /** v1: 0–99 (percent); v2: 0–9999 (basis points). */
  readonly bucket: number;
  readonly hashVersion: 1 | 2;
  readonly inScope: boolean;
  readonly canarySelected: boolean;
  readonly inCohort: boolean;
}

/** Where one loop stands in the rollout. */
export interface CohortSelection extends CohortPlacement {
  readonly loopId: string;
  /** `autonomous_rollout_scope_excluded` or `autonomous_rollout_canary_excluded`, or none. */
  readonly reasons: readonly string[];
}

/** The reason codes of the scope and canary gates (shared, frozen lists). */
export const rolloutReasons = (inScope: boolean, canarySelected: boolean): readonly ReasonCode[] =>
  !inScope ? SCOPE_REASONS : canarySelected ? NO_REASONS : CANARY_REASONS;

/** The rollout fields cohort selection reads. */
export type CohortRollout = Pick<Rollout, "canaryPercent" | "scope" | "selector">;

/**
 * The reference hash (v1): over the code points of `loopId|salt`, h = 17, h = (h·31 + cp) mod 1000003.
 * Code points, not UTF-16 units, so astral characters hash as jq hashes them.
 */
export function cohortHashV1(loopId: string, salt: string): number {
  return suffixOf(salt).finish(fold(17, loopId));
}

const MODULUS = 1000003;

// h ← (h·31 + cp) mod M over the code points of `text`, from `h`. The modulo is taken every second
// code point: two steps from h < M stay below 2^31 (M·961 + 32·0x10FFFF), so the arithmetic stays
// in small integers and the result is the same as reducing at every step.
function fold(start: number, text: string): number {
  let h = start;
  let steps = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff) {
      cp = text.codePointAt(i) as number;
      if (cp > 0xffff) i++; // an astral character is one code point in two UTF-16 units
    }
    h = h * 31 + cp;
    if (++steps === 2) {
      h %= MODULUS;
      steps = 0;
    }
  }
  return h % MODULUS;
}

// The step is linear, so the `|salt` part folds into one multiply-add: h(P·S) = h(P)·31^|S| + h₀(S)
// (mod M). Computed once per salt instead of once per loop; the product (below 2^40) is reduced
// by an exact division instead of a floating-point remainder.
const suffixes = new Map<string, { finish(h: number): number }>();
function suffixOf(salt: string): { finish(h: number): number } {
  let suffix = suffixes.get(salt);
  if (!suffix) {
    const text = `|${salt}`;
    let power = 1;
    for (const _ of text) power = (power * 31) % MODULUS;
    const offset = fold(0, text);
    suffix = {
      finish: (h: number) => {
        const x = h * power + offset;
        const r = x - Math.floor(x / MODULUS) * MODULUS;
        return r < 0 ? r + MODULUS : r >= MODULUS ? r - MODULUS : r;
      },
    };
    if (suffixes.size > 64) suffixes.clear();
    suffixes.set(salt, suffix);
  }
  return suffix;
}

/** Hash v2: the first 8 bytes of SHA-256(`loopId|salt`) as an unsigned integer. */
export const cohortHashV2 = (loopId: string, salt: string): bigint => sha256Prefix64(`${loopId}|${salt}`);

/** A loop's bucket: v1 `h mod 100`, v2 `hash mod 10000`. */
export function cohortBucket(loopId: string, salt: string, hashVersion: 1 | 2): number {
  return bucketOf(salt, hashVersion)(loopId);
}

// the bucket function of one salt, its v1 suffix looked up once (a placer calls it once per loop)
function bucketOf(salt: string, hashVersion: 1 | 2): (loopId: string) => number {
  if (hashVersion === 2) return (loopId) => sha256Prefix64Mod(`${loopId}|${salt}`, 10_000);
  const suffix = suffixOf(salt);
  return (loopId) => suffix.finish(fold(17, loopId)) % 100;
}

// the canary as a count of buckets: percent for v1, basis points for v2 (two decimals of a percent)
const canaryBuckets = (canaryPercent: number, hashVersion: 1 | 2): number =>
  hashVersion === 1 ? canaryPercent : Math.round(canaryPercent * 100);

/**
 * Deterministic cohort selection. `percent` mode decides each loop on its own (reference
 * behaviour: in the canary iff bucket < canary); `exact` mode takes exactly
 * ceil(canary/100 × in-scope count) in-scope loops with the lowest hash, ties by loopId in
 * code-point order. Both are monotone in the canary: a loop selected at p is selected at every q > p.
 * No clock, randomness or ordering dependency: the same input gives the same answer everywhere.
 * @returns one selection per input loop id, in input order.
 */
export function selectCohort(loopIds: readonly string[], rollout: CohortRollout): CohortSelection[] {
  const place = cohortPlacer(rollout, () => loopIds);
  // sized once: a 200k-loop fleet would otherwise grow (and copy) the array a dozen times
  const selections = new Array<CohortSelection>(loopIds.length);
  for (let i = 0; i < loopIds.length; i++) {
    const loopId = loopIds[i] as string;
    const p = place(loopId);
    selections[i] = {
      loopId,
      bucket: p.bucket,
      hashVersion: p.hashVersion,
      inScope: p.inScope,
      canarySelected: p.canarySelected,
      inCohort: p.inCohort,
      reasons: rolloutReasons(p.inScope, p.canarySelected),
    };
  }
  return selections;
}

/**
 * {@link selectCohort} one loop at a time, as shared placements: one object per (bucket, scope,
 * canary), at most 400 under hash v1 whatever the fleet's size. `population` gives every loop the
 * rollout is over; only exact mode reads it (once), so a percent-mode caller never builds it.
 */
export function cohortPlacer(rollout: CohortRollout, population: () => Iterable<string>): (loopId: string) => CohortPlacement {
  const { salt, hashVersion, mode } = rollout.selector;
  const scope = new Set(rollout.scope.loopIds);
  const inScope = (loopId: string): boolean => scope.size === 0 || scope.has(loopId);
  const buckets = canaryBuckets(rollout.canaryPercent, hashVersion);
  const range = hashVersion === 1 ? 100 : 10_000;

  let exactSelected: Set<string> | undefined;
  if (mode === "exact") {
    const candidates = [...new Set(population())].filter(inScope);
    // integer arithmetic: ceil(buckets × n / range)
    const count = Math.ceil((buckets * candidates.length) / range);
    const rank = (loopId: string): bigint => (hashVersion === 1 ? BigInt(cohortHashV1(loopId, salt)) : cohortHashV2(loopId, salt));
    const ranked = candidates.map((loopId) => ({ loopId, rank: rank(loopId) }));
    ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : compareCodePoints(a.loopId, b.loopId)));
    exactSelected = new Set(ranked.slice(0, count).map((entry) => entry.loopId));
  }

  const placements: CohortPlacement[] = [];
  const bucketOfLoop = bucketOf(salt, hashVersion);
  return (loopId) => {
    const bucket = bucketOfLoop(loopId);
    const scoped = inScope(loopId);
    const canarySelected = exactSelected ? exactSelected.has(loopId) : buckets <= 0 ? false : buckets >= range ? true : bucket < buckets;
    const key = bucket * 4 + (scoped ? 2 : 0) + (canarySelected ? 1 : 0);
    let placement = placements[key];
    if (!placement) {
      placement = { bucket, hashVersion, inScope: scoped, canarySelected, inCohort: scoped && canarySelected };
      placements[key] = placement;
    }
    return placement;
  };
}

/** Which loops a rollout change moves into or out of the cohort. */
export interface CohortPreview {
  readonly entering: readonly string[];
  readonly leaving: readonly string[];
  readonly staying: readonly string[];
  readonly cohortBefore: number;
  readonly cohortAfter: number;
}

/** Compares the cohorts of two rollouts over the same loops (a policy change's blast radius). */
export function previewCohort(before: CohortRollout, after: CohortRollout, loopIds: readonly string[]): CohortPreview {
  const was = new Set(
    selectCohort(loopIds, before)
      .filter((s) => s.inCohort)
      .map((s) => s.loopId),
  );
  const is = new Set(
    selectCohort(loopIds, after)
      .filter((s) => s.inCohort)
      .map((s) => s.loopId),
  );
  const sorted = (ids: Iterable<string>) => [...ids].sort(compareCodePoints);
  return {
    entering: sorted([...is].filter((id) => !was.has(id))),
    leaving: sorted([...was].filter((id) => !is.has(id))),
    staying: sorted([...is].filter((id) => was.has(id))),
    cohortBefore: was.size,
    cohortAfter: is.size,
  };
}
