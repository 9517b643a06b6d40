import { z } from "zod";
import { CATEGORIES, CONFIDENCES, INTENTS, SEVERITIES } from "./taxonomy.ts";

// The normalized registry (reference §2.8 plus opsledger's fields): every default filled in.
// It is what `PolicyApplied` records and what the policy hash covers, so it is strict.

const category = z.enum(CATEGORIES);

export const NormalizedLoopSchema = z
  .object({
    loopId: z.string().min(1),
    enabled: z.boolean(),
    transport: z.enum(["local", "sprite_service"]),
    sprite: z.object({ id: z.string().optional(), assignment: z.json().optional(), serviceBaseUrl: z.string().optional() }).strict(),
    service: z
      .object({
        baseUrl: z.string().optional(),
        tokenEnv: z.string().optional(),
        retryAttempts: z.number(),
        retryBackoffSeconds: z.number(),
      })
      .strict(),
    metadata: z.record(z.string(), z.json()),
  })
  .strict();
export type NormalizedLoop = z.infer<typeof NormalizedLoopSchema>;

export const NormalizedGovernanceSchema = z
  .object({
    actor: z.string().optional(),
    approvalRef: z.string().optional(),
    rationale: z.string().optional(),
    changedAt: z.string().optional(),
    reviewBy: z.string().optional(),
    reviewWindowDays: z.number().int().optional(),
    requireDistinctApprover: z.boolean(),
    approvedBy: z.string().optional(),
  })
  .strict();
export type Governance = z.infer<typeof NormalizedGovernanceSchema>;

export const NormalizedRolloutSchema = z
  .object({
    canaryPercent: z.number().min(0).max(100),
    scope: z.object({ loopIds: z.array(z.string()) }).strict(),
    selector: z
      .object({ salt: z.string().min(1), hashVersion: z.union([z.literal(1), z.literal(2)]), mode: z.enum(["percent", "exact"]) })
      .strict(),
    pause: z.object({ manual: z.boolean() }).strict(),
    autoPause: z
      .object({
        enabled: z.boolean(),
        lookbackExecutions: z.number().int().min(1),
        minSampleSize: z.number().int().min(1),
        ambiguityRateThreshold: z.number().min(0).max(1),
        failureRateThreshold: z.number().min(0).max(1),
      })
      .strict(),
  })
  .strict();
export type Rollout = z.infer<typeof NormalizedRolloutSchema>;

export const NormalizedAutonomousSchema = z
  .object({
    enabled: z.boolean(),
    allow: z.object({ categories: z.array(category), intents: z.array(z.enum(INTENTS)) }).strict(),
    thresholds: z.object({ minSeverity: z.enum(SEVERITIES), minConfidence: z.enum(CONFIDENCES) }).strict(),
    safety: z
      .object({
        maxActionsPerRun: z.number().int().min(0),
        maxActionsPerLoop: z.number().int().min(0),
        cooldownSeconds: z.number().int().min(0),
        killSwitch: z.boolean(),
      })
      .strict(),
    governance: NormalizedGovernanceSchema,
    rollout: NormalizedRolloutSchema,
  })
  .strict();
export type AutonomousPolicy = z.infer<typeof NormalizedAutonomousSchema>;

export const PolicyModeSchema = z.enum(["advisory", "guarded_auto"]);
export type PolicyMode = z.infer<typeof PolicyModeSchema>;

export const NormalizedPolicySchema = z
  .object({
    mode: PolicyModeSchema,
    suppressions: z.record(z.string(), z.array(category)),
    noiseControls: z.object({ dedupeWindowSeconds: z.number().int().min(0) }).strict(),
    autonomous: NormalizedAutonomousSchema,
  })
  .strict();
export type Policy = z.infer<typeof NormalizedPolicySchema>;

/** The normalized registry: what a valid registry v1 document means, every default filled in. */
export const RegistrySchema = z
  .object({
    schemaVersion: z.literal("v1"),
    fleetId: z.string(),
    loopCount: z.number().int().min(1),
    loops: z.array(NormalizedLoopSchema).min(1),
    policy: NormalizedPolicySchema,
  })
  .strict();
export type Registry = z.infer<typeof RegistrySchema>;
