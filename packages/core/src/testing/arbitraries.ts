import fc from "fast-check";
import type { Rollout } from "../contract/normalized-registry.ts";
import { CATEGORIES } from "../contract/taxonomy.ts";

/** Loop ids as fleets name them (`payments-eu-3`); `unicode: true` adds any non-empty string. */
export function arbitraryLoopId(options: { readonly unicode?: boolean } = {}): fc.Arbitrary<string> {
  const named = fc.stringMatching(/^[a-z][a-z0-9]{0,9}(-[a-z0-9]{1,6}){0,3}$/);
  return options.unicode ? fc.oneof(named, fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 })) : named;
}

/** A normalized rollout block (any canary, scope drawn from `loopIds`, both hash versions and modes). */
export function arbitraryRollout(loopIds: readonly string[] = []): fc.Arbitrary<Rollout> {
  return fc.record({
    canaryPercent: fc.integer({ min: 0, max: 100 }),
    scope: fc.record({ loopIds: loopIds.length > 0 ? fc.subarray([...loopIds]) : fc.constant([] as string[]) }),
    selector: fc.record({
      salt: fc.string({ minLength: 1, maxLength: 16 }),
      hashVersion: fc.constantFrom(1 as const, 2 as const),
      mode: fc.constantFrom("percent" as const, "exact" as const),
    }),
    pause: fc.record({ manual: fc.boolean() }),
    autoPause: fc.record({
      enabled: fc.boolean(),
      lookbackExecutions: fc.integer({ min: 1, max: 10 }),
      minSampleSize: fc.integer({ min: 1, max: 10 }),
      ambiguityRateThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
      failureRateThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  });
}

/**
 * Valid registry v1 documents (as users write them) for a review deadline after `now`: 1–`maxLoops`
 * loops, either mode, complete governance in guarded_auto. Feed them to `parseRegistry`.
 */
export function arbitraryRegistry(options: {
  readonly now: string | Date;
  readonly maxLoops?: number;
}): fc.Arbitrary<Record<string, unknown>> {
  const now = new Date(options.now).getTime();
  const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
  return fc.uniqueArray(arbitraryLoopId(), { minLength: 1, maxLength: options.maxLoops ?? 8 }).chain((loopIds) =>
    fc.record({
      schemaVersion: fc.constant("v1"),
      fleetId: fc.constantFrom("default", "fleet-a"),
      loops: fc.constant(loopIds.map((loopId) => ({ loopId }))),
      policy: fc.record({
        mode: fc.constantFrom("advisory", "guarded_auto"),
        noiseControls: fc.record({ dedupeWindowSeconds: fc.integer({ min: 0, max: 900 }) }),
        suppressions: fc.dictionary(fc.constantFrom("*", ...loopIds), fc.subarray([...CATEGORIES])),
        autonomous: fc.record({
          allow: fc.record({ categories: fc.subarray([...CATEGORIES]), intents: fc.constant(["cancel"]) }),
          thresholds: fc.record({
            minSeverity: fc.constantFrom("critical", "warning", "info"),
            minConfidence: fc.constantFrom("high", "medium", "low"),
          }),
          safety: fc.record({
            maxActionsPerRun: fc.integer({ min: 0, max: 5 }),
            maxActionsPerLoop: fc.integer({ min: 0, max: 3 }),
            cooldownSeconds: fc.integer({ min: 0, max: 900 }),
            killSwitch: fc.boolean(),
          }),
          rollout: arbitraryRollout(loopIds),
          governance: fc.record({
            actor: fc.constantFrom("alice", "bob", "ops-bot"),
            approvalRef: fc.stringMatching(/^CAB-[0-9]{1,4}$/),
            rationale: fc.constantFrom("canary expansion", "incident follow-up", "drill"),
            changedAt: fc.integer({ min: 1, max: 30 }).map((days) => iso(now - days * 86_400_000)),
            reviewBy: fc.integer({ min: 1, max: 90 }).map((days) => iso(now + days * 86_400_000)),
          }),
        }),
      }),
    }),
  );
}
