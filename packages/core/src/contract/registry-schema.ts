import { z } from "zod";
import { CONFIDENCES, SEVERITIES } from "./taxonomy.ts";

// The shape of registry v1 (types, enums and ranges) for the published JSON Schema and the
// `RegistryInput` type. The parser does not use it: `registry-validation.ts` holds the rules,
// check by check with the reference's messages (it also reads `false` in an optional leaf as
// absent, which this schema does not describe). Objects are loose: the reference ignores keys it
// does not know, and registries written back by its promotion tooling carry output-only keys
// (sourceFile, loopCount, enabled). `null` counts as absent, as jq's `//` does.

const opt = <T extends z.ZodType>(schema: T) => schema.nullish();
const object = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape);
const nonEmptyString = z.string().min(1);
const integerAtLeast = (min: number) => z.int().min(min);
const rate = z.number().min(0).max(1);

export const LoopInputSchema = object({
  loopId: nonEmptyString,
  enabled: opt(z.boolean()),
  transport: opt(z.enum(["local", "sprite_service"])),
  sprite: opt(object({ id: opt(nonEmptyString), assignment: z.unknown().optional(), serviceBaseUrl: opt(z.string()) })),
  service: opt(
    object({
      baseUrl: opt(z.string()),
      tokenEnv: opt(nonEmptyString),
      retryAttempts: opt(z.number().min(1)),
      retryBackoffSeconds: opt(z.number().min(0)),
    }),
  ),
  metadata: opt(object({})),
}).describe("One managed loop");

export const GovernanceInputSchema = object({
  actor: opt(nonEmptyString),
  approvalRef: opt(nonEmptyString),
  rationale: opt(nonEmptyString),
  changedAt: opt(z.string()),
  reviewBy: opt(z.string()),
  requireDistinctApprover: opt(z.boolean()),
  approvedBy: opt(nonEmptyString),
}).describe("Who changed the autonomous policy, under which approval, why, and until when it holds");

export const RolloutInputSchema = object({
  canaryPercent: opt(z.number().min(0).max(100)),
  scope: opt(object({ loopIds: opt(z.array(nonEmptyString)) })),
  selector: opt(
    object({
      salt: opt(nonEmptyString),
      hashVersion: opt(z.union([z.literal(1), z.literal(2)])),
      mode: opt(z.enum(["percent", "exact"])),
    }),
  ),
  pause: opt(object({ manual: opt(z.boolean()) })),
  autoPause: opt(
    object({
      enabled: opt(z.boolean()),
      lookbackExecutions: opt(integerAtLeast(1)),
      minSampleSize: opt(integerAtLeast(1)),
      ambiguityRateThreshold: opt(rate),
      failureRateThreshold: opt(rate),
    }),
  ),
}).describe("Blast-radius controls: scope, deterministic canary cohort, manual pause, auto-pause");

export const AutonomousInputSchema = object({
  allow: opt(object({ categories: opt(z.array(z.string())), intents: opt(z.array(z.string())) })),
  thresholds: opt(object({ minSeverity: opt(z.enum(SEVERITIES)), minConfidence: opt(z.enum(CONFIDENCES)) })),
  safety: opt(
    object({
      maxActionsPerRun: opt(integerAtLeast(0)),
      maxActionsPerLoop: opt(integerAtLeast(0)),
      cooldownSeconds: opt(integerAtLeast(0)),
      killSwitch: opt(z.boolean()),
    }),
  ),
  rollout: opt(RolloutInputSchema),
  governance: opt(GovernanceInputSchema),
}).describe("Guarded autonomy: allowlists, thresholds, safety rails, rollout, governance");

export const PolicyInputSchema = object({
  mode: opt(z.enum(["advisory", "guarded_auto"])),
  suppressions: opt(z.record(z.string(), z.array(z.string()))),
  noiseControls: opt(object({ dedupeWindowSeconds: opt(integerAtLeast(0)) })),
  autonomous: opt(AutonomousInputSchema),
});

/** The registry v1 document as users write it (the reference's `registry.v1.json`). */
export const RegistryInputSchema = object({
  schemaVersion: z.literal("v1"),
  fleetId: opt(z.string()),
  loops: z.array(LoopInputSchema).min(1),
  policy: opt(PolicyInputSchema),
}).describe("opsledger fleet registry v1 (compatible with superloop's registry.v1.json)");
export type RegistryInput = z.infer<typeof RegistryInputSchema>;
