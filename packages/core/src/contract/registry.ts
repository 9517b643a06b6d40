import { canonicalJson, isJsonObject } from "../chain/canonical-json.ts";
import { sha256Hex } from "../chain/hash.ts";
import { InvalidRegistryError, type Issue } from "../errors.ts";
import type { Registry } from "./normalized-registry.ts";
import { absent, ROOT_PATH, registryIssues } from "./registry-validation.ts";
import type { Category, Intent } from "./taxonomy.ts";
import { parseTimestamp } from "./timestamp.ts";

export { ROOT_PATH };

/** Defaults of registry v1, exactly the reference's (plus opsledger's new fields). */
export const REGISTRY_DEFAULTS = {
  fleetId: "default",
  loop: { enabled: true, transport: "local", retryAttempts: 3, retryBackoffSeconds: 1 },
  mode: "advisory",
  dedupeWindowSeconds: 300,
  allowCategories: ["reconcile_failed", "health_critical"] as Category[],
  allowIntents: ["cancel"] as Intent[],
  minSeverity: "critical",
  minConfidence: "high",
  maxActionsPerRun: 1,
  maxActionsPerLoop: 1,
  cooldownSeconds: 300,
  canaryPercent: 100,
  salt: "fleet-autonomous-rollout-v1",
  hashVersion: 1,
  selectorMode: "percent",
  autoPause: { enabled: true, lookbackExecutions: 5, minSampleSize: 3, ambiguityRateThreshold: 0.4, failureRateThreshold: 0.4 },
} as const;

/** Options of `parseRegistry`: `now` decides whether a review deadline is still in the future. */
export interface ParseRegistryOptions {
  readonly now: Date | string;
}

/** The result of `safeParseRegistry`: the normalized registry, or every problem with its JSON path. */
export type RegistryParseResult =
  | { readonly ok: true; readonly registry: Registry }
  | { readonly ok: false; readonly errors: readonly Issue[] };

type Json = Record<string, unknown>;
const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (isJsonObject(node) ? node[key] : undefined), value);
const present = (value: unknown): boolean => value !== undefined && value !== null;

/**
 * Validates a registry v1 document in one pass and normalizes it. Every problem is collected,
 * each with its JSON path, a message in the reference's words where it has them, and what the
 * message does not say (the values, the allowed ones, a hint) in `detail`.
 * `now` is a parameter, never the wall clock.
 */
export function safeParseRegistry(json: unknown, options: ParseRegistryOptions): RegistryParseResult {
  let input = json;
  if (typeof json === "string") {
    try {
      input = JSON.parse(json);
    } catch (error) {
      return { ok: false, errors: [{ path: ROOT_PATH, message: "registry is not valid JSON", detail: (error as Error).message }] };
    }
  }
  const now = new Date(options.now).getTime();
  if (Number.isNaN(now)) throw new RangeError(`parseRegistry: now is not a time: ${String(options.now)}`);

  const errors = registryIssues(input, now);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, registry: normalize(input as Json) };
}

/**
 * Validates and normalizes a registry v1 document.
 * @throws {InvalidRegistryError} listing every problem with its path.
 */
export function parseRegistry(json: unknown, options: ParseRegistryOptions): Registry {
  const result = safeParseRegistry(json, options);
  if (!result.ok) throw new InvalidRegistryError(result.errors);
  return result.registry;
}

/** SHA-256 of the canonical normalized registry: identifies exactly the policy an approval covers. */
export const policyHash = (registry: Registry): string => sha256Hex(canonicalJson(registry));

// fills every default; only called on a document that passed validation
function normalize(input: Json): Registry {
  // jq's `//`, as the reference normalizes: null and false take the default
  const val = <T>(value: unknown, fallback: T): T => (absent(value) ? fallback : (value as T));
  const prune = <T extends Json>(object: T): T => Object.fromEntries(Object.entries(object).filter(([, v]) => present(v))) as T;
  const given = (value: unknown): unknown => val(value, undefined);
  // ...except the enabled flags, where false is honoured (semantics §2 row 1)
  const flag = (value: unknown, fallback: boolean): boolean => (present(value) ? (value as boolean) : fallback);
  const loops = (input["loops"] as Json[]).map((loop) => {
    const sprite = isJsonObject(loop["sprite"]) ? loop["sprite"] : {};
    const service = isJsonObject(loop["service"]) ? loop["service"] : {};
    const baseUrl = val(service["baseUrl"], sprite["serviceBaseUrl"]);
    const spriteBaseUrl = val(sprite["serviceBaseUrl"], service["baseUrl"]);
    return {
      loopId: loop["loopId"] as string,
      enabled: flag(loop["enabled"], REGISTRY_DEFAULTS.loop.enabled),
      transport: val(loop["transport"], REGISTRY_DEFAULTS.loop.transport) as "local" | "sprite_service",
      sprite: prune({ id: given(sprite["id"]), assignment: given(sprite["assignment"]), serviceBaseUrl: given(spriteBaseUrl) }),
      service: prune({
        baseUrl: given(baseUrl),
        tokenEnv: given(service["tokenEnv"]),
        retryAttempts: val(service["retryAttempts"], REGISTRY_DEFAULTS.loop.retryAttempts),
        retryBackoffSeconds: val(service["retryBackoffSeconds"], REGISTRY_DEFAULTS.loop.retryBackoffSeconds),
      }),
      metadata: val(loop["metadata"], {}),
    } as Registry["loops"][number];
  });

  const policy = isJsonObject(input["policy"]) ? input["policy"] : {};
  const autonomous = isJsonObject(policy["autonomous"]) ? policy["autonomous"] : {};
  const mode = val(policy["mode"], REGISTRY_DEFAULTS.mode) as "advisory" | "guarded_auto";
  const g = isJsonObject(autonomous["governance"]) ? autonomous["governance"] : {};
  const changedAt = parseTimestamp(given(g["changedAt"]));
  const reviewBy = parseTimestamp(given(g["reviewBy"]));
  const rollout = isJsonObject(autonomous["rollout"]) ? autonomous["rollout"] : {};
  const D = REGISTRY_DEFAULTS;
  const a = D.autoPause;

  return {
    schemaVersion: "v1",
    fleetId: val(input["fleetId"], D.fleetId),
    loopCount: loops.length,
    loops,
    policy: {
      mode,
      suppressions: val(policy["suppressions"], {}) as Record<string, Category[]>,
      noiseControls: { dedupeWindowSeconds: val(get(policy, "noiseControls", "dedupeWindowSeconds"), D.dedupeWindowSeconds) },
      autonomous: {
        enabled: mode === "guarded_auto",
        allow: {
          categories: val(get(autonomous, "allow", "categories"), [...D.allowCategories]),
          intents: val(get(autonomous, "allow", "intents"), [...D.allowIntents]),
        },
        thresholds: {
          minSeverity: val(get(autonomous, "thresholds", "minSeverity"), D.minSeverity),
          minConfidence: val(get(autonomous, "thresholds", "minConfidence"), D.minConfidence),
        },
        safety: {
          maxActionsPerRun: val(get(autonomous, "safety", "maxActionsPerRun"), D.maxActionsPerRun),
          maxActionsPerLoop: val(get(autonomous, "safety", "maxActionsPerLoop"), D.maxActionsPerLoop),
          cooldownSeconds: val(get(autonomous, "safety", "cooldownSeconds"), D.cooldownSeconds),
          killSwitch: val(get(autonomous, "safety", "killSwitch"), false),
        },
        governance: prune({
          actor: given(g["actor"]),
          approvalRef: given(g["approvalRef"]),
          rationale: given(g["rationale"]),
          changedAt: given(g["changedAt"]),
          reviewBy: given(g["reviewBy"]),
          reviewWindowDays: changedAt !== undefined && reviewBy !== undefined ? Math.floor((reviewBy - changedAt) / 86_400_000) : undefined,
          requireDistinctApprover: val(g["requireDistinctApprover"], false),
          approvedBy: given(g["approvedBy"]),
        }) as Registry["policy"]["autonomous"]["governance"],
        rollout: {
          canaryPercent: val(rollout["canaryPercent"], D.canaryPercent),
          scope: { loopIds: val(get(rollout, "scope", "loopIds"), []) },
          selector: {
            salt: val(get(rollout, "selector", "salt"), D.salt),
            hashVersion: val(get(rollout, "selector", "hashVersion"), D.hashVersion),
            mode: val(get(rollout, "selector", "mode"), D.selectorMode),
          },
          pause: { manual: val(get(rollout, "pause", "manual"), false) },
          autoPause: {
            enabled: flag(get(rollout, "autoPause", "enabled"), a.enabled),
            lookbackExecutions: val(get(rollout, "autoPause", "lookbackExecutions"), a.lookbackExecutions),
            minSampleSize: val(get(rollout, "autoPause", "minSampleSize"), a.minSampleSize),
            ambiguityRateThreshold: val(get(rollout, "autoPause", "ambiguityRateThreshold"), a.ambiguityRateThreshold),
            failureRateThreshold: val(get(rollout, "autoPause", "failureRateThreshold"), a.failureRateThreshold),
          },
        },
      },
    },
  };
}
