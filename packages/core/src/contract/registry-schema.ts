import { z } from "zod";
import { CONFIDENCES, SEVERITIES } from "./taxonomy.ts";

// Structural rules of registry v1: types, enums and ranges. Each message is completed with the
// field's JSON path by the validator (`<path> <message>`), which yields the reference's texts,
// e.g. "policy.autonomous.thresholds.minConfidence must be one of high, medium, low".
// Rules that span fields (references to declared loops, governance, the canary's precision) are
// in registry.ts. Objects are loose: the reference ignores keys it does not know, and registries
// written back by its promotion tooling carry output-only keys (sourceFile, loopCount, enabled).
// `null` counts as absent, as jq's `//` does.

const opt = <T extends z.ZodType>(schema: T) => schema.nullish();
const object = <T extends z.ZodRawShape>(shape: T, required = false) =>
  z.looseObject(shape, { error: required ? "must be an object" : "must be an object when present" });
const nonEmptyString = (when = "when present") =>
  z.string({ error: `must be a non-empty string ${when}` }).min(1, { error: `must be a non-empty string ${when}` });
const boolean = z.boolean({ error: "must be a boolean when present" });
const integerAtLeast = (min: number) =>
  z.int({ error: `must be an integer >= ${min} when present` }).min(min, { error: `must be an integer >= ${min} when present` });
const rate = z
  .number({ error: "must be a number between 0 and 1 when present" })
  .min(0, { error: "must be a number between 0 and 1 when present" })
  .max(1, { error: "must be a number between 0 and 1 when present" });
const stringArray = z.array(z.string({ error: "entries must be strings" }), { error: "must be an array when present" });

export const LoopInputSchema = object(
  {
    loopId: z.string({ error: "must be a non-empty string" }).min(1, { error: "must be a non-empty string" }),
    enabled: opt(boolean),
    transport: opt(z.enum(["local", "sprite_service"], { error: "must be one of local, sprite_service" })),
    sprite: opt(
      object({
        id: opt(nonEmptyString()),
        assignment: z.unknown().optional(),
        serviceBaseUrl: opt(z.string({ error: "must be a string when present" })),
      }),
    ),
    service: opt(
      object({
        baseUrl: opt(z.string({ error: "must be a string when present" })),
        tokenEnv: opt(nonEmptyString()),
        retryAttempts: opt(
          z.number({ error: "must be a number >= 1 when present" }).min(1, { error: "must be a number >= 1 when present" }),
        ),
        retryBackoffSeconds: opt(
          z.number({ error: "must be a number >= 0 when present" }).min(0, { error: "must be a number >= 0 when present" }),
        ),
      }),
    ),
    metadata: opt(object({})),
  },
  true,
).describe("One managed loop");

export const GovernanceInputSchema = object({
  actor: opt(nonEmptyString()),
  approvalRef: opt(nonEmptyString()),
  rationale: opt(nonEmptyString()),
  changedAt: opt(z.string({ error: "must be an ISO-8601 timestamp" })),
  reviewBy: opt(z.string({ error: "must be an ISO-8601 timestamp" })),
  requireDistinctApprover: opt(boolean),
  approvedBy: opt(nonEmptyString()),
}).describe("Who changed the autonomous policy, under which approval, why, and until when it holds");

export const RolloutInputSchema = object({
  canaryPercent: opt(
    z
      .number({ error: "must be an integer between 0 and 100 when present" })
      .min(0, { error: "must be an integer between 0 and 100 when present" })
      .max(100, { error: "must be an integer between 0 and 100 when present" }),
  ),
  scope: opt(
    object({
      loopIds: opt(
        z.array(z.string({ error: "entries must be non-empty strings" }).min(1, { error: "entries must be non-empty strings" }), {
          error: "must be an array when present",
        }),
      ),
    }),
  ),
  selector: opt(
    object({
      salt: opt(nonEmptyString()),
      hashVersion: opt(z.union([z.literal(1), z.literal(2)], { error: "must be 1 or 2 when present" })),
      mode: opt(z.enum(["percent", "exact"], { error: "must be one of percent, exact" })),
    }),
  ),
  pause: opt(object({ manual: opt(boolean) })),
  autoPause: opt(
    object({
      enabled: opt(boolean),
      lookbackExecutions: opt(integerAtLeast(1)),
      minSampleSize: opt(integerAtLeast(1)),
      ambiguityRateThreshold: opt(rate),
      failureRateThreshold: opt(rate),
    }),
  ),
}).describe("Blast-radius controls: scope, deterministic canary cohort, manual pause, auto-pause");

export const AutonomousInputSchema = object({
  allow: opt(object({ categories: opt(stringArray), intents: opt(stringArray) })),
  thresholds: opt(
    object({
      minSeverity: opt(z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(", ")}` })),
      minConfidence: opt(z.enum(CONFIDENCES, { error: `must be one of ${CONFIDENCES.join(", ")}` })),
    }),
  ),
  safety: opt(
    object({
      maxActionsPerRun: opt(integerAtLeast(0)),
      maxActionsPerLoop: opt(integerAtLeast(0)),
      cooldownSeconds: opt(integerAtLeast(0)),
      killSwitch: opt(boolean),
    }),
  ),
  rollout: opt(RolloutInputSchema),
  governance: opt(GovernanceInputSchema),
}).describe("Guarded autonomy: allowlists, thresholds, safety rails, rollout, governance");

export const PolicyInputSchema = object({
  mode: opt(z.enum(["advisory", "guarded_auto"], { error: "must be one of advisory, guarded_auto" })),
  suppressions: opt(
    z.record(z.string(), z.array(z.string({ error: "entries must be strings" }), { error: "values must be arrays of categories" }), {
      error: "must be an object when present",
    }),
  ),
  noiseControls: opt(object({ dedupeWindowSeconds: opt(integerAtLeast(0)) })),
  autonomous: opt(AutonomousInputSchema),
});

/** The registry v1 document as users write it (the reference's `registry.v1.json`). */
export const RegistryInputSchema = object(
  {
    schemaVersion: z.literal("v1", { error: 'must be "v1"' }),
    fleetId: opt(z.string({ error: "must be a string when present" })),
    loops: z.array(LoopInputSchema, { error: "must be an array" }).min(1, { error: "must be a non-empty array" }),
    policy: opt(PolicyInputSchema),
  },
  true,
).describe("opsledger fleet registry v1 (compatible with superloop's registry.v1.json)");
export type RegistryInput = z.infer<typeof RegistryInputSchema>;
