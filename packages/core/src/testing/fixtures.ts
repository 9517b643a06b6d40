// Builders for the reference's file formats, for tests and drills: a registry v1 document and a
// fleet state v1 document (`state.json`), with the defaults the reference's tests use.

/** One loop's reconcile result in a fleet state v1 document. */
export interface LoopResultInput {
  readonly loopId: string;
  readonly status?: "success" | "failed" | "skipped";
  readonly healthStatus?: "healthy" | "degraded" | "critical" | "unknown";
  readonly reasonCode?: string;
  readonly healthReasonCodes?: readonly string[];
  readonly transport?: "local" | "sprite_service";
}

/** A fleet state v1 document as the reference's fan-out reconcile writes it. */
export function fleetStateDocument(
  results: readonly LoopResultInput[],
  options: { readonly traceId?: string; readonly updatedAt?: string } = {},
): Record<string, unknown> {
  const full = results.map((r) => ({
    loopId: r.loopId,
    transport: r.transport ?? "local",
    enabled: true,
    status: r.status ?? "success",
    reconcileStatus: r.status === "failed" ? "failed" : "success",
    healthStatus: r.healthStatus ?? "healthy",
    healthReasonCodes: r.healthReasonCodes ?? [],
    ...(r.reasonCode ? { reasonCode: r.reasonCode } : {}),
    durationSeconds: 1,
    traceId: `${options.traceId ?? "fleet-trace"}-${r.loopId}`,
  }));
  return {
    schemaVersion: "v1",
    updatedAt: options.updatedAt ?? "2026-03-01T00:00:00Z",
    startedAt: options.updatedAt ?? "2026-03-01T00:00:00Z",
    fleetId: "default",
    traceId: options.traceId ?? "fleet-trace",
    status: "success",
    reasonCodes: [],
    loopCount: full.length,
    successCount: full.filter((r) => r.status === "success").length,
    failedCount: full.filter((r) => r.status === "failed").length,
    skippedCount: 0,
    durationSeconds: 1,
    execution: { maxParallel: 2, deterministicOrder: true, fromStart: false, maxEvents: 0 },
    results: full,
  };
}

/** Options of `guardedRegistry`: the knobs tests turn most. */
export interface GuardedRegistryOptions {
  readonly loops?: readonly (
    | string
    | { readonly loopId: string; readonly transport?: "local" | "sprite_service"; readonly enabled?: boolean }
  )[];
  readonly mode?: "advisory" | "guarded_auto";
  readonly categories?: readonly string[];
  readonly maxActionsPerRun?: number;
  readonly maxActionsPerLoop?: number;
  readonly cooldownSeconds?: number;
  readonly killSwitch?: boolean;
  readonly dedupeWindowSeconds?: number;
  readonly rollout?: Record<string, unknown>;
  readonly suppressions?: Record<string, readonly string[]>;
  readonly governance?: Record<string, unknown>;
  readonly minSeverity?: string;
}

/**
 * A registry v1 document in guarded_auto with complete governance (approval CAB-900, review by
 * 2026-12-31), dedupe off and generous caps, like the reference's drill registries.
 */
export function guardedRegistry(options: GuardedRegistryOptions = {}): Record<string, unknown> {
  const loops = (options.loops ?? ["loop-red"]).map((loop) =>
    typeof loop === "string"
      ? { loopId: loop, transport: "local" }
      : {
          loopId: loop.loopId,
          transport: loop.transport ?? "local",
          ...(loop.transport === "sprite_service" ? { service: { baseUrl: `http://${loop.loopId}.local` } } : {}),
          ...(loop.enabled === undefined ? {} : { enabled: loop.enabled }),
        },
  );
  return {
    schemaVersion: "v1",
    fleetId: "default",
    loops,
    policy: {
      mode: options.mode ?? "guarded_auto",
      suppressions: options.suppressions ?? {},
      noiseControls: { dedupeWindowSeconds: options.dedupeWindowSeconds ?? 0 },
      autonomous: {
        allow: { categories: options.categories ?? ["reconcile_failed", "health_critical"], intents: ["cancel"] },
        thresholds: { minSeverity: options.minSeverity ?? "critical", minConfidence: "high" },
        safety: {
          maxActionsPerRun: options.maxActionsPerRun ?? 5,
          maxActionsPerLoop: options.maxActionsPerLoop ?? 2,
          cooldownSeconds: options.cooldownSeconds ?? 0,
          killSwitch: options.killSwitch ?? false,
        },
        rollout: options.rollout ?? { canaryPercent: 100 },
        governance: {
          actor: "alice",
          approvalRef: "CAB-900",
          rationale: "guarded autonomy for the fleet",
          changedAt: "2026-02-23T00:00:00Z",
          reviewBy: "2026-12-31T00:00:00Z",
          ...options.governance,
        },
      },
    },
  };
}

/** Governance metadata for operator commands. */
export const operator = (
  actor = "oncall",
  approvalRef = "INC-1",
  rationale = "incident response",
): { actor: string; approvalRef: string; rationale: string } => ({
  actor,
  approvalRef,
  rationale,
});
