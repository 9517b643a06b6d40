import { canonicalJson, isJsonObject } from "../chain/canonical-json.ts";
import { sha256Hex } from "../chain/hash.ts";
import { InvalidRegistryError, type Issue } from "../errors.ts";
import type { Registry } from "./normalized-registry.ts";
import { RegistryInputSchema } from "./registry-schema.ts";
import { CATEGORIES, type Category, INTENTS, type Intent, isCategory, isIntent } from "./taxonomy.ts";
import { parseTimestamp } from "./timestamp.ts";

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

/** The path of problems with the document as a whole. */
export const ROOT_PATH = "(root)";

type Json = Record<string, unknown>;
const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (isJsonObject(node) ? node[key] : undefined), value);
const present = (value: unknown): boolean => value !== undefined && value !== null;
const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), "");

/**
 * Validates a registry v1 document in one pass and normalizes it. Every problem is collected,
 * each with its JSON path and a message holding the reference's text where it has one.
 * `now` is a parameter, never the wall clock.
 */
export function safeParseRegistry(json: unknown, options: ParseRegistryOptions): RegistryParseResult {
  let input = json;
  if (typeof json === "string") {
    try {
      input = JSON.parse(json);
    } catch (error) {
      return { ok: false, errors: [{ path: ROOT_PATH, message: `registry is not valid JSON: ${(error as Error).message}` }] };
    }
  }
  const now = new Date(options.now).getTime();
  if (Number.isNaN(now)) throw new RangeError(`parseRegistry: now is not a time: ${String(options.now)}`);

  const errors: Issue[] = [];
  const parsed = RegistryInputSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = formatPath(issue.path);
      errors.push(path ? { path, message: `${path} ${issue.message}` } : { path: ROOT_PATH, message: `registry ${issue.message}` });
    }
  }
  if (isJsonObject(input)) crossFieldIssues(input, now, errors);
  if (errors.length > 0) {
    const seen = new Set<string>();
    const unique = errors.filter((issue) => {
      const key = `${issue.path}\u0000${issue.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return { ok: false, errors: unique };
  }
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

// rules that span fields; every check tolerates wrong types (the schema already reported them)
function crossFieldIssues(input: Json, now: number, errors: Issue[]): void {
  const add = (path: string, message: string) => errors.push({ path, message });
  const loops = Array.isArray(input["loops"]) ? input["loops"] : [];
  const declared = new Set<string>();
  loops.forEach((loop, index) => {
    const loopId = get(loop, "loopId");
    if (typeof loopId === "string" && loopId !== "") {
      if (declared.has(loopId))
        add(`loops[${index}].loopId`, `loops[${index}].loopId must be unique: "${loopId}" is declared more than once`);
      declared.add(loopId);
    }
    if (get(loop, "transport") === "sprite_service") {
      const base = get(loop, "service", "baseUrl");
      const fallback = get(loop, "sprite", "serviceBaseUrl");
      if (!((typeof base === "string" && base !== "") || (typeof fallback === "string" && fallback !== ""))) {
        add(`loops[${index}]`, `loops[${index}]: sprite_service loops require service.baseUrl or sprite.serviceBaseUrl`);
      }
    }
  });

  const suppressions = get(input, "policy", "suppressions");
  if (isJsonObject(suppressions)) {
    for (const [key, categories] of Object.entries(suppressions)) {
      const path = `policy.suppressions.${key}`;
      if (key !== "*" && !declared.has(key)) add(path, `${path}: suppression keys must be declared loopIds or "*"`);
      if (Array.isArray(categories)) {
        const unknown = categories.filter((category) => typeof category === "string" && !isCategory(category));
        if (unknown.length > 0) add(path, `${path} contains unknown categories: ${unknown.join(", ")}`);
      }
    }
  }

  const subset = (path: string, values: unknown, allowed: readonly string[], check: (v: unknown) => boolean, noun: string) => {
    if (!Array.isArray(values)) return;
    const unsupported = values.filter((value) => typeof value === "string" && !check(value));
    if (unsupported.length > 0)
      add(path, `${path} contains unsupported ${noun}: ${unsupported.join(", ")} (allowed: ${allowed.join(", ")})`);
  };
  subset(
    "policy.autonomous.allow.categories",
    get(input, "policy", "autonomous", "allow", "categories"),
    CATEGORIES,
    isCategory,
    "categories",
  );
  subset("policy.autonomous.allow.intents", get(input, "policy", "autonomous", "allow", "intents"), INTENTS, isIntent, "intents");

  const rollout = get(input, "policy", "autonomous", "rollout");
  const scope = get(rollout, "scope", "loopIds");
  if (Array.isArray(scope)) {
    const path = "policy.autonomous.rollout.scope.loopIds";
    const strings = scope.filter((id): id is string => typeof id === "string" && id !== "");
    if (new Set(strings).size !== strings.length) add(path, `${path} entries must be unique`);
    const undeclared = strings.filter((id) => !declared.has(id));
    if (undeclared.length > 0) add(path, `${path} entries must reference declared loopIds (unknown: ${undeclared.join(", ")})`);
  }
  const canary = get(rollout, "canaryPercent");
  if (typeof canary === "number" && canary >= 0 && canary <= 100) {
    const path = "policy.autonomous.rollout.canaryPercent";
    if (get(rollout, "selector", "hashVersion") === 2) {
      if (!Number.isInteger(Math.round(canary * 100 * 1e6) / 1e6)) {
        add(path, `${path} must be a number between 0 and 100 with at most two decimals when selector.hashVersion is 2`);
      }
    } else if (!Number.isInteger(canary)) {
      add(path, `${path} must be an integer between 0 and 100 when present (fractional canaries need selector.hashVersion 2)`);
    }
  }

  governanceIssues(input, now, add);
}

function governanceIssues(input: Json, now: number, add: (path: string, message: string) => void): void {
  const guarded = get(input, "policy", "mode") === "guarded_auto";
  const base = "policy.autonomous.governance";
  const governance = get(input, "policy", "autonomous", "governance");
  if (guarded && !isJsonObject(governance)) {
    add(base, `${base} is required when policy.mode is guarded_auto`);
    return;
  }
  if (!isJsonObject(governance)) return;
  if (guarded) {
    for (const field of ["actor", "approvalRef", "rationale"]) {
      if (!present(governance[field])) add(`${base}.${field}`, `${base}.${field} is required when policy.mode is guarded_auto`);
    }
  }
  const times: Record<string, number | undefined> = {};
  for (const field of ["changedAt", "reviewBy"]) {
    const value = governance[field];
    times[field] = parseTimestamp(value);
    if (times[field] !== undefined) continue;
    if (guarded) {
      add(`${base}.${field}`, `${base}.${field} must be an ISO-8601 timestamp when policy.mode is guarded_auto`);
    } else if (typeof value === "string") {
      add(`${base}.${field}`, `${base}.${field} must be an ISO-8601 timestamp (YYYY-MM-DDTHH:MM:SS[.mmm]Z) when present`);
    }
  }
  const { changedAt, reviewBy } = times;
  if (changedAt !== undefined && reviewBy !== undefined && reviewBy <= changedAt) {
    add(`${base}.reviewBy`, `${base}.reviewBy must be after governance.changedAt`);
  }
  if (guarded && reviewBy !== undefined && reviewBy <= now) {
    add(`${base}.reviewBy`, `${base}.reviewBy must be in the future when policy.mode is guarded_auto`);
  }
  if (guarded && governance["requireDistinctApprover"] === true) {
    const approvedBy = governance["approvedBy"];
    if (!present(approvedBy)) {
      add(`${base}.approvedBy`, `${base}.approvedBy is required when governance.requireDistinctApprover is true`);
    } else if (approvedBy === governance["actor"]) {
      add(`${base}.approvedBy`, `${base}.approvedBy must differ from governance.actor when governance.requireDistinctApprover is true`);
    }
  }
}

// fills every default; only called on a document that passed validation
function normalize(input: Json): Registry {
  const val = <T>(value: unknown, fallback: T): T => (present(value) ? (value as T) : fallback);
  const prune = <T extends Json>(object: T): T => Object.fromEntries(Object.entries(object).filter(([, v]) => present(v))) as T;
  const loops = (input["loops"] as Json[]).map((loop) => {
    const sprite = isJsonObject(loop["sprite"]) ? loop["sprite"] : {};
    const service = isJsonObject(loop["service"]) ? loop["service"] : {};
    const baseUrl = present(service["baseUrl"]) ? service["baseUrl"] : sprite["serviceBaseUrl"];
    const spriteBaseUrl = present(sprite["serviceBaseUrl"]) ? sprite["serviceBaseUrl"] : service["baseUrl"];
    return {
      loopId: loop["loopId"] as string,
      enabled: val(loop["enabled"], REGISTRY_DEFAULTS.loop.enabled),
      transport: val(loop["transport"], REGISTRY_DEFAULTS.loop.transport) as "local" | "sprite_service",
      sprite: prune({ id: sprite["id"], assignment: sprite["assignment"], serviceBaseUrl: spriteBaseUrl }),
      service: prune({
        baseUrl,
        tokenEnv: service["tokenEnv"],
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
  const changedAt = parseTimestamp(g["changedAt"]);
  const reviewBy = parseTimestamp(g["reviewBy"]);
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
          actor: g["actor"],
          approvalRef: g["approvalRef"],
          rationale: g["rationale"],
          changedAt: g["changedAt"],
          reviewBy: g["reviewBy"],
          reviewWindowDays: changedAt !== undefined && reviewBy !== undefined ? Math.floor((reviewBy - changedAt) / 86_400_000) : undefined,
          requireDistinctApprover: val(g["requireDistinctApprover"], false),
          approvedBy: g["approvedBy"],
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
            enabled: val(get(rollout, "autoPause", "enabled"), a.enabled),
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
