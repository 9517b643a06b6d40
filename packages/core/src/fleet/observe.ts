import { z } from "zod";
import type { Registry } from "../contract/normalized-registry.ts";
import type { Issue } from "../errors.ts";
import { issuesFromZod } from "../events/catalogue.ts";
import { type FleetObserved, HEALTH_STATUSES, type LoopResult } from "../events/fleet-events.ts";
import { sortedUnique } from "./order.ts";
import type { ReasonCode } from "./reason-codes.ts";

// The reference's fleet state v1 (state.json from its fan-out reconcile), read leniently:
// fields opsledger does not use are ignored, missing optional ones take the reference's defaults.
const ResultInputSchema = z.looseObject({
  loopId: z.string({ error: "must be a non-empty string" }).min(1, { error: "must be a non-empty string" }),
  status: z.enum(["success", "failed", "skipped"], { error: "must be one of success, failed, skipped" }),
  reasonCode: z.string().nullish(),
  reconcileStatus: z.string().nullish(),
  // any string, as the reference reads it: one it does not know yields no candidate, like "unknown"
  healthStatus: z.string({ error: "must be a string when present" }).nullish(),
  healthReasonCodes: z.array(z.string(), { error: "must be an array of strings" }).nullish(),
  transitionState: z.string().nullish(),
  transport: z.enum(["local", "sprite_service"], { error: "must be one of local, sprite_service" }).nullish(),
  durationSeconds: z.number().nullish(),
  traceId: z.string().nullish(),
});

export const FleetStateInputSchema = z.looseObject({
  schemaVersion: z.literal("v1", { error: 'must be "v1"' }),
  traceId: z.string().nullish(),
  startedAt: z.string().nullish(),
  updatedAt: z.string().nullish(),
  durationSeconds: z.number().nullish(),
  results: z.array(ResultInputSchema, { error: "must be an array" }).min(1, { error: "must list at least one loop result" }),
});

/** The fleet status and reason codes the reference derives from results (§3.1). */
export function fleetRollup(
  results: readonly LoopResult[],
): Pick<FleetObserved, "status" | "reasonCodes" | "loopCount" | "successCount" | "failedCount" | "skippedCount"> {
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const successCount = count("success");
  const failedCount = count("failed");
  const skippedCount = count("skipped");
  const codes: ReasonCode[] = [];
  if (failedCount > 0 && successCount > 0) codes.push("fleet_partial_failure");
  if (failedCount > 0 && successCount === 0) codes.push("fleet_reconcile_failed");
  if (results.some((r) => r.healthStatus === "critical")) codes.push("fleet_health_critical");
  else if (results.some((r) => r.healthStatus === "degraded")) codes.push("fleet_health_degraded");
  if (skippedCount > 0) codes.push("fleet_loop_skipped");
  const status = failedCount > 0 && successCount > 0 ? "partial_failure" : failedCount > 0 ? "failed" : "success";
  return { status, reasonCodes: sortedUnique(codes), loopCount: results.length, successCount, failedCount, skippedCount };
}

/**
 * Reads a fleet state v1 document into an observation. Loops the registry disables are recorded
 * as skipped with `loop_disabled` (whether or not the document lists them); loops the registry
 * does not know, loops listed more than once and health strings outside the four known ones are
 * kept and evaluated as the reference evaluates them.
 */
export function readFleetState(
  json: unknown,
  registry: Registry | null,
): { ok: true; observation: FleetObserved } | { ok: false; errors: Issue[] } {
  const parsed = FleetStateInputSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      errors: issuesFromZod(parsed.error).map((issue) => ({
        path: issue.path || "(root)",
        message: `${issue.path || "fleet state"} ${issue.message}`,
      })),
    };
  }
  const input = parsed.data;
  const loops = new Map((registry?.loops ?? []).map((loop) => [loop.loopId, loop]));
  const seen = new Set<string>();
  const results: LoopResult[] = [];
  // a loop listed more than once is kept as listed, as the reference does: its candidates are the
  // union of its entries' (fleet/evaluate.ts), the counts count every entry
  for (const raw of input.results) {
    seen.add(raw.loopId);
    const loop = loops.get(raw.loopId);
    if (loop && !loop.enabled) {
      results.push(skipped(raw.loopId, loop.transport));
      continue;
    }
    results.push({
      loopId: raw.loopId,
      status: raw.status,
      ...(raw.reasonCode ? { reasonCode: raw.reasonCode } : {}),
      ...(raw.reconcileStatus ? { reconcileStatus: raw.reconcileStatus } : {}),
      healthStatus: knownHealth(raw.healthStatus),
      healthReasonCodes: raw.healthReasonCodes ?? [],
      ...(raw.transitionState ? { transitionState: raw.transitionState } : {}),
      transport: raw.transport ?? loop?.transport ?? "local",
      ...(raw.durationSeconds != null ? { durationSeconds: raw.durationSeconds } : {}),
      ...(raw.traceId ? { traceId: raw.traceId } : {}),
      registered: loop !== undefined,
    });
  }
  for (const loop of loops.values()) if (!loop.enabled && !seen.has(loop.loopId)) results.push(skipped(loop.loopId, loop.transport));
  return {
    ok: true,
    observation: {
      traceId: input.traceId ?? null,
      ...fleetRollup(results),
      ...(input.startedAt ? { startedAt: input.startedAt } : {}),
      ...(input.updatedAt ? { updatedAt: input.updatedAt } : {}),
      ...(input.durationSeconds != null ? { durationSeconds: input.durationSeconds } : {}),
      results,
    },
  };
}

const knownHealth = (reported: string | null | undefined): LoopResult["healthStatus"] =>
  HEALTH_STATUSES.includes(reported as LoopResult["healthStatus"]) ? (reported as LoopResult["healthStatus"]) : "unknown";

const skipped = (loopId: string, transport: "local" | "sprite_service"): LoopResult => ({
  loopId,
  status: "skipped",
  reasonCode: "loop_disabled",
  reconcileStatus: "skipped",
  healthStatus: "unknown",
  healthReasonCodes: [],
  transport,
  registered: true,
});
