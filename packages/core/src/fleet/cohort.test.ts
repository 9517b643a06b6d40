import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CohortRollout, cohortBucket, cohortHashV1, cohortHashV2, previewCohort, selectCohort } from "./cohort.ts";

const rollout = (
  canaryPercent: number,
  options: Partial<{ salt: string; hashVersion: 1 | 2; mode: "percent" | "exact"; scope: string[] }> = {},
): CohortRollout => ({
  canaryPercent,
  scope: { loopIds: options.scope ?? [] },
  selector: { salt: options.salt ?? "fleet-autonomous-rollout-v1", hashVersion: options.hashVersion ?? 1, mode: options.mode ?? "percent" },
});

// an independent transcription of the reference's jq: explode (code points), then fold
const referenceBucket = (loopId: string, salt: string): number =>
  Array.from(`${loopId}|${salt}`).reduce((h, ch) => (h * 31 + (ch.codePointAt(0) as number)) % 1000003, 17) % 100;

const loopId = fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 });
const loopIds = fc.uniqueArray(loopId, { minLength: 1, maxLength: 60 });

describe("cohort hash v1 (the reference's)", () => {
  it("reproduces the reference's test vectors", () => {
    const buckets = (salt: string) => ["loop-a", "loop-b", "loop-c"].map((id) => cohortBucket(id, salt, 1));
    expect(buckets("fleet-autonomous-rollout-v1")).toEqual([36, 85, 31]);
    expect(buckets("cohort-seed-v1")).toEqual([17, 77, 37]);
  });

  it("agrees with the reference's code-point algorithm for any loop id, astral characters included", () => {
    fc.assert(
      fc.property(loopId, fc.string({ minLength: 1 }), (id, salt) => {
        expect(cohortBucket(id, salt, 1)).toBe(referenceBucket(id, salt));
      }),
      { numRuns: 2000 },
    );
    // any code units, lone surrogates included (the hash takes BMP code points two at a time)
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), fc.string({ unit: "binary" }), (id, salt) => {
        expect(cohortBucket(id, salt, 1)).toBe(referenceBucket(id, salt));
      }),
      { numRuns: 2000 },
    );
    // the largest code points, back to back: the hash reduces every second step, and must stay exact
    for (const id of ["\u{10FFFF}".repeat(9), "\uFFFF".repeat(17), `${"\u{10FFFF}".repeat(5)}x`]) {
      expect(cohortBucket(id, "\u{10FFFF}", 1)).toBe(referenceBucket(id, "\u{10FFFF}"));
    }
    // UTF-16 units would give another answer for an astral character
    const byUnits = Array.from({ length: "🚀|s".length }, (_, i) => "🚀|s".charCodeAt(i)).reduce((h, u) => (h * 31 + u) % 1000003, 17);
    expect(cohortHashV1("🚀", "s")).not.toBe(byUnits);
  });

  it("selects scope then canary with the reference's reasons (§2.6.1)", () => {
    const selection = selectCohort(["loop-a", "loop-b", "loop-c", "other"], rollout(40, { scope: ["loop-a", "loop-b", "loop-c"] }));
    expect(selection).toEqual([
      { loopId: "loop-a", bucket: 36, hashVersion: 1, inScope: true, canarySelected: true, inCohort: true, reasons: [] },
      {
        loopId: "loop-b",
        bucket: 85,
        hashVersion: 1,
        inScope: true,
        canarySelected: false,
        inCohort: false,
        reasons: ["autonomous_rollout_canary_excluded"],
      },
      { loopId: "loop-c", bucket: 31, hashVersion: 1, inScope: true, canarySelected: true, inCohort: true, reasons: [] },
      expect.objectContaining({ loopId: "other", inScope: false, inCohort: false, reasons: ["autonomous_rollout_scope_excluded"] }),
    ]);
  });

  it("selects nobody at 0 % and everybody at 100 %", () => {
    expect(selectCohort(["loop-a", "loop-b"], rollout(0)).map((s) => s.inCohort)).toEqual([false, false]);
    expect(selectCohort(["loop-a", "loop-b"], rollout(100)).map((s) => s.inCohort)).toEqual([true, true]);
  });
});

describe("cohort selection properties", () => {
  const variants = fc.record({
    hashVersion: fc.constantFrom(1 as const, 2 as const),
    mode: fc.constantFrom("percent" as const, "exact" as const),
    salt: fc.string({ minLength: 1, maxLength: 12 }),
  });

  it("is deterministic: same loops and rollout, same answer, whatever the input order", () => {
    fc.assert(
      fc.property(loopIds, variants, fc.integer({ min: 0, max: 100 }), (ids, v, p) => {
        const a = selectCohort(ids, rollout(p, v));
        const b = selectCohort([...ids].reverse(), rollout(p, v)).reverse();
        expect(b).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });

  it("is monotone in the canary for both modes and both hash versions (in at p ⇒ in at q > p)", () => {
    fc.assert(
      fc.property(loopIds, variants, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (ids, v, x, y) => {
        const [p, q] = x <= y ? [x, y] : [y, x];
        const at = (percent: number) =>
          new Set(
            selectCohort(ids, rollout(percent, v))
              .filter((s) => s.inCohort)
              .map((s) => s.loopId),
          );
        const small = at(p);
        const large = at(q);
        for (const id of small) expect(large.has(id)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("selects exactly ceil(p/100 × in-scope) loops in exact mode", () => {
    fc.assert(
      fc.property(loopIds, variants, fc.integer({ min: 0, max: 100 }), fc.nat(), (ids, v, p, cut) => {
        const scope = ids.slice(0, (cut % ids.length) + 1);
        const selected = selectCohort(ids, rollout(p, { ...v, mode: "exact", scope })).filter((s) => s.inCohort);
        expect(selected.length).toBe(Math.ceil((p * scope.length) / 100));
        for (const s of selected) expect(scope).toContain(s.loopId);
      }),
      { numRuns: 300 },
    );
    // the reference's weak spot: a 10 % canary of 20 loops is 2 loops, never 0 or 5
    const twenty = Array.from({ length: 20 }, (_, i) => `loop-${i}`);
    expect(selectCohort(twenty, rollout(10, { mode: "exact" })).filter((s) => s.inCohort)).toHaveLength(2);
  });

  it("computes v2 as the first 8 bytes of SHA-256 of the UTF-8 of `loopId|salt` (vectors from Python's hashlib)", () => {
    const salt = "fleet-autonomous-rollout-v1";
    const vectors: [string, bigint, number][] = [
      ["alpha", 0xf33b4bbb6f4b4937n, 9623],
      ["loop-000001", 0x2f35ddd301cf1646n, 4582],
      ["lööp-ü-🚀", 0x246611b7dc410246n, 7910],
    ];
    for (const [loopId, hash, bucket] of vectors) {
      expect(cohortHashV2(loopId, salt)).toBe(hash);
      expect(cohortBucket(loopId, salt, 2)).toBe(bucket);
    }
  });

  it("spreads v2 buckets uniformly over 100,000 generated ids (chi-square over 100 bins)", () => {
    const ids = fc.sample(fc.string({ minLength: 1, maxLength: 16 }), { numRuns: 100_000, seed: 7 });
    const bins = new Array<number>(100).fill(0);
    ids.forEach((id, i) => {
      const bucket = cohortBucket(`${id}#${i}`, "salt-a", 2);
      const bin = Math.floor(bucket / 100);
      bins[bin] = (bins[bin] as number) + 1;
    });
    const expected = ids.length / 100;
    const chiSquare = bins.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: the 99.9th percentile is ≈ 148.2
    expect(chiSquare).toBeLessThan(148.2);
    for (const n of bins) expect(Math.abs(n - expected) / expected).toBeLessThan(0.15);
  });

  it("re-randomizes with the salt in v2: two salts agree on about p² of loops, not p", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `loop-${i}`);
    const p = 30;
    const inA = selectCohort(ids, rollout(p, { hashVersion: 2, salt: "salt-a" }));
    const inB = selectCohort(ids, rollout(p, { hashVersion: 2, salt: "salt-b" }));
    const both = inA.filter((s, i) => s.inCohort && inB[i]?.inCohort).length / ids.length;
    expect(both).toBeGreaterThan(0.09 - 0.015);
    expect(both).toBeLessThan(0.09 + 0.015);
  });

  it("supports basis-point canaries in v2", () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `loop-${i}`);
    const selected = selectCohort(ids, rollout(0.5, { hashVersion: 2 })).filter((s) => s.inCohort).length;
    expect(selected / ids.length).toBeGreaterThan(0.004);
    expect(selected / ids.length).toBeLessThan(0.006);
  });
});

describe("previewCohort", () => {
  it("lists the loops entering and leaving the cohort", () => {
    const ids = ["loop-a", "loop-b", "loop-c"];
    expect(previewCohort(rollout(35), rollout(90), ids)).toEqual({
      entering: ["loop-a", "loop-b"],
      leaving: [],
      staying: ["loop-c"],
      cohortBefore: 1,
      cohortAfter: 3,
    });
    expect(previewCohort(rollout(90), rollout(90, { scope: ["loop-b"] }), ids)).toEqual({
      entering: [],
      leaving: ["loop-a", "loop-c"],
      staying: ["loop-b"],
      cohortBefore: 3,
      cohortAfter: 1,
    });
  });
});
