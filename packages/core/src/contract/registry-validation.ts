import { isJsonObject } from "../chain/canonical-json.ts";
import type { Issue } from "../errors.ts";
import { CATEGORIES, CONFIDENCES, INTENTS, isCategory, isIntent, SEVERITIES } from "./taxonomy.ts";
import { parseTimestamp, referenceTimestamp } from "./timestamp.ts";

// The validation rules of registry v1, check by check in the reference's order
// (ops-manager-fleet-registry.sh), each with the reference's message verbatim. The reference
// reads an optional field through jq's `//`, so `null` and `false` count as absent there;
// `absent()` is that rule. Where the reference stops at the first failing check of a field, we
// may report the next problems too. Extra detail (the values that failed, the allowed list, a
// hint) goes to `detail`, never into the message. opsledger's own fields (selector.hashVersion,
// selector.mode, governance.requireDistinctApprover, approvedBy) and the fixes of semantics §2
// (rows 26, 27) add messages in the reference's style.

type Json = Record<string, unknown>;
type Report = (path: string, message: string, detail?: string) => void;

/** jq's `//`: null and false read as absent. */
export const absent = (value: unknown): boolean => value === undefined || value === null || value === false;
const nonEmptyString = (value: unknown): value is string => typeof value === "string" && value.length > 0;
const isInteger = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value);
const isString = (value: unknown): value is string => typeof value === "string";
const isBoolean = (value: unknown): value is boolean => typeof value === "boolean";
const numberAtLeast = (min: number) => (value: unknown) => typeof value === "number" && value >= min;
const integerAtLeast = (min: number) => (value: unknown) => isInteger(value) && value >= min;
const rate = (value: unknown) => typeof value === "number" && value >= 0 && value <= 1;
const got = (value: unknown): string => `got ${JSON.stringify(value)}`;
const TIMESTAMP_FORMAT = "expected YYYY-MM-DDTHH:MM:SS[.mmm]Z, a real calendar instant in UTC";

/** The path of problems with the document as a whole. */
export const ROOT_PATH = "(root)";

/**
 * An optional field, read through `//`: reported, with its value, when present and not `ok`.
 * @returns whether the field passed (absent counts as passing).
 */
function optional(value: unknown, ok: (value: unknown) => boolean, path: string, message: string, report: Report): boolean {
  if (absent(value) || ok(value)) return true;
  report(path, message, got(value));
  return false;
}

/**
 * An optional object of the document: `{}` when absent, the object, or undefined (after a
 * report) when it is something else. The reference aborts on indexing a non-object, so nothing
 * below a bad container is checked.
 */
function container(value: unknown, path: string, report: Report): Json | undefined {
  if (value === undefined || value === null) return {};
  if (isJsonObject(value)) return value;
  report(path, `${path} must be an object when present`, got(value));
  return undefined;
}

/** The loop ids a registry declares: non-empty strings, as the reference collects them. */
export function declaredLoopIds(loops: unknown): Set<string> {
  const entries = Array.isArray(loops) ? loops : isJsonObject(loops) ? Object.values(loops) : [];
  return new Set(entries.map((loop) => (isJsonObject(loop) ? loop["loopId"] : undefined)).filter(nonEmptyString));
}

/** Every problem with a registry v1 document, in the reference's order. `now` decides "in the future". */
export function registryIssues(input: unknown, now: number): Issue[] {
  const issues: Issue[] = [];
  const report: Report = (path, message, detail) => issues.push(detail === undefined ? { path, message } : { path, message, detail });
  if (!isJsonObject(input)) {
    report(ROOT_PATH, "registry must be a JSON object", got(Array.isArray(input) ? "array" : input));
    return issues;
  }
  if (input["schemaVersion"] !== "v1") report("schemaVersion", 'schemaVersion must be "v1"', got(input["schemaVersion"] ?? null));
  optional(input["fleetId"], isString, "fleetId", "fleetId must be a string when present", report);
  const loops = input["loops"];
  if (!Array.isArray(loops)) report("loops", "loops must be an array", got(loops ?? null));
  else if (loops.length === 0) report("loops", "loops must include at least one loop entry");
  if (Array.isArray(loops)) loopIssues(loops, report);

  const policy = container(input["policy"], "policy", report);
  if (policy) policyIssues(policy, declaredLoopIds(loops), now, report);
  return issues;
}

function loopIssues(loops: readonly unknown[], report: Report): void {
  const ids = loops.map((loop) => (isJsonObject(loop) ? loop["loopId"] : undefined)).filter((id) => typeof id === "string");
  const seen = new Set<unknown>();
  const repeated = [...new Set(ids.filter((id) => seen.has(id) || !seen.add(id)))];
  if (repeated.length > 0) {
    report("loops", "loopId values must be unique", `declared more than once: ${repeated.map((id) => JSON.stringify(id)).join(", ")}`);
  }
  loops.forEach((entry, i) => {
    const at = (field: string) => `loops[${i}].${field}`;
    const say = (field: string, text: string, detail?: string) => report(field ? at(field) : `loops[${i}]`, `loops[${i}]: ${text}`, detail);
    // a field of the loop, checked with the reference's `loops[i]: field …` message
    const check = (field: string, value: unknown, ok: (value: unknown) => boolean, rule: string) =>
      optional(value, ok, at(field), `loops[${i}]: ${field} ${rule}`, report);
    if (!isJsonObject(entry)) {
      say("", "entry must be an object", got(entry));
      if (entry !== null) return;
    }
    const loop: Json = isJsonObject(entry) ? entry : {};
    if (!nonEmptyString(loop["loopId"])) say("loopId", "loopId must be a non-empty string", got(loop["loopId"] ?? null));
    check("enabled", loop["enabled"], isBoolean, "must be boolean when present");
    const transport = absent(loop["transport"]) ? "local" : loop["transport"];
    if (transport !== "local" && transport !== "sprite_service") {
      say("transport", "transport must be local or sprite_service", got(transport));
    }
    const sprite = container(loop["sprite"], at("sprite"), () =>
      say("sprite", "sprite must be an object when present", got(loop["sprite"])),
    );
    const service = container(loop["service"], at("service"), () =>
      say("service", "service must be an object when present", got(loop["service"])),
    );
    if (sprite) check("sprite.id", sprite["id"], nonEmptyString, "must be a non-empty string when present");
    if (service) {
      check("service.tokenEnv", service["tokenEnv"], nonEmptyString, "must be a non-empty string when present");
      check("service.retryAttempts", service["retryAttempts"], numberAtLeast(1), "must be >= 1 when present");
      check("service.retryBackoffSeconds", service["retryBackoffSeconds"], numberAtLeast(0), "must be >= 0 when present");
    }
    // semantics §2 row 27: the reference never type-checks the URL fields (ours, so spelled with our path)
    const baseUrl = service?.["baseUrl"];
    const spriteBaseUrl = sprite?.["serviceBaseUrl"];
    for (const [field, url] of [
      ["service.baseUrl", baseUrl],
      ["sprite.serviceBaseUrl", spriteBaseUrl],
    ] as const) {
      optional(url, isString, at(field), `${at(field)} must be a string when present`, report);
    }
    // the reference takes the first URL that is not null or false, so "" does not fall back
    const url = !absent(baseUrl) ? baseUrl : spriteBaseUrl;
    if (transport === "sprite_service" && !nonEmptyString(url)) {
      say("", "sprite_service loops require service.baseUrl or sprite.serviceBaseUrl", got(url ?? null));
    }
    check("metadata", loop["metadata"], isJsonObject, "must be an object when present");
  });
}

/** A non-negative / positive integer field: the reference's `must be an integer >= N when present`. */
const integerField = (value: unknown, path: string, min: number, report: Report) =>
  optional(value, integerAtLeast(min), path, `${path} must be an integer >= ${min} when present`, report);

/** A boolean field read through `//` (false is fine either way). */
const booleanField = (value: unknown, path: string, report: Report) =>
  optional(value, isBoolean, path, `${path} must be boolean when present`, report);

/** A non-empty string field. */
const textField = (value: unknown, path: string, report: Report) =>
  optional(value, nonEmptyString, path, `${path} must be a non-empty string when present`, report);

/** An optional list of strings from a closed set: the reference reports only its first failing check. */
function subsetField(
  object: Json,
  field: string,
  path: string,
  allowed: readonly string[],
  known: (v: unknown) => boolean,
  noun: string,
  report: Report,
) {
  const values = object[field];
  if (absent(values)) return;
  if (!Array.isArray(values)) return report(path, `${path} must be an array when present`, got(values));
  if (!values.every((value) => typeof value === "string")) return report(path, `${path} entries must be strings`, got(values));
  const unsupported = values.filter((value) => !known(value));
  if (unsupported.length > 0) {
    report(path, `${path} contains unsupported ${noun}`, `unsupported: ${unsupported.join(", ")}; allowed: ${allowed.join(", ")}`);
  }
}

/** An optional string from a closed set. */
function enumField(object: Json, field: string, path: string, allowed: readonly string[], report: Report): void {
  const value = object[field];
  if (optional(value, isString, path, `${path} must be a string when present`, report)) {
    optional(value, (v) => allowed.includes(v as string), path, `${path} must be one of ${allowed.join(", ")}`, report);
  }
}

function policyIssues(policy: Json, declared: ReadonlySet<string>, now: number, report: Report): void {
  const mode = absent(policy["mode"]) ? "advisory" : policy["mode"];
  if (mode !== "advisory" && mode !== "guarded_auto") report("policy.mode", "policy.mode must be advisory or guarded_auto", got(mode));
  const noise = container(policy["noiseControls"], "policy.noiseControls", report);
  if (noise) integerField(noise["dedupeWindowSeconds"], "policy.noiseControls.dedupeWindowSeconds", 0, report);

  const autonomous = container(policy["autonomous"], "policy.autonomous", report);
  if (autonomous) {
    const allow = container(autonomous["allow"], "policy.autonomous.allow", report);
    if (allow) {
      subsetField(allow, "categories", "policy.autonomous.allow.categories", CATEGORIES, isCategory, "categories", report);
      subsetField(allow, "intents", "policy.autonomous.allow.intents", INTENTS, isIntent, "intents", report);
    }
    const thresholds = container(autonomous["thresholds"], "policy.autonomous.thresholds", report);
    if (thresholds) {
      enumField(thresholds, "minSeverity", "policy.autonomous.thresholds.minSeverity", SEVERITIES, report);
      enumField(thresholds, "minConfidence", "policy.autonomous.thresholds.minConfidence", CONFIDENCES, report);
    }
    const safety = container(autonomous["safety"], "policy.autonomous.safety", report);
    if (safety) {
      for (const field of ["maxActionsPerRun", "maxActionsPerLoop", "cooldownSeconds"]) {
        integerField(safety[field], `policy.autonomous.safety.${field}`, 0, report);
      }
      booleanField(safety["killSwitch"], "policy.autonomous.safety.killSwitch", report);
    }
    governanceIssues(autonomous["governance"], mode === "guarded_auto", now, report);
    const rollout = container(autonomous["rollout"], "policy.autonomous.rollout", report);
    if (rollout) rolloutIssues(rollout, declared, report);
  }
  suppressionIssues(policy["suppressions"], declared, report);
}

function governanceIssues(value: unknown, guarded: boolean, now: number, report: Report): void {
  const base = "policy.autonomous.governance";
  const governance = container(value, base, report);
  if (governance) for (const field of ["actor", "approvalRef", "rationale"]) textField(governance[field], `${base}.${field}`, report);
  const fields: Json = governance ?? {};
  const time = (field: string) => parseTimestamp(fields[field]);
  const changedAt = time("changedAt");
  const reviewBy = time("reviewBy");
  for (const [field, at] of [
    ["changedAt", changedAt],
    ["reviewBy", reviewBy],
  ] as const) {
    if (!absent(fields[field]) && at === undefined) {
      report(`${base}.${field}`, `${base}.${field} must be an ISO-8601 timestamp when present`, TIMESTAMP_FORMAT);
    }
  }
  // ordering and freshness are judged on the instants the reference reads (a value it reads
  // leniently gets its "must be after" too, beside our refusal of the value itself)
  const readChangedAt = referenceTimestamp(fields["changedAt"]);
  const readReviewBy = referenceTimestamp(fields["reviewBy"]);
  const ordered = readChangedAt === undefined || readReviewBy === undefined || readReviewBy > readChangedAt;
  if (!ordered) report(`${base}.reviewBy`, `${base}.reviewBy must be after ${base}.changedAt`);
  if (!guarded) return;

  // guarded_auto: the reference lists every missing piece, even beside the messages above
  const when = "when policy.mode is guarded_auto";
  if (!isJsonObject(value)) report(base, `${base} is required ${when}`);
  for (const field of ["actor", "approvalRef", "rationale"]) {
    if (!nonEmptyString(fields[field])) report(`${base}.${field}`, `${base}.${field} is required ${when}`);
  }
  if (changedAt === undefined) report(`${base}.changedAt`, `${base}.changedAt must be an ISO-8601 timestamp ${when}`, TIMESTAMP_FORMAT);
  if (reviewBy === undefined) report(`${base}.reviewBy`, `${base}.reviewBy must be an ISO-8601 timestamp ${when}`, TIMESTAMP_FORMAT);
  if (!ordered) report(`${base}.reviewBy`, `${base}.reviewBy must be after ${base}.changedAt ${when}`);
  if (readReviewBy !== undefined && readReviewBy <= now) {
    report(`${base}.reviewBy`, `${base}.reviewBy must be in the future ${when}`, `now is ${new Date(now).toISOString()}`);
  }
  if (!governance) return;
  booleanField(governance["requireDistinctApprover"], `${base}.requireDistinctApprover`, report);
  const approvedBy = governance["approvedBy"];
  textField(approvedBy, `${base}.approvedBy`, report);
  if (governance["requireDistinctApprover"] === true) {
    if (absent(approvedBy)) report(`${base}.approvedBy`, `${base}.approvedBy is required when ${base}.requireDistinctApprover is true`);
    else if (approvedBy === governance["actor"]) {
      report(`${base}.approvedBy`, `${base}.approvedBy must differ from ${base}.actor when ${base}.requireDistinctApprover is true`);
    }
  }
}

function rolloutIssues(rollout: Json, declared: ReadonlySet<string>, report: Report): void {
  const base = "policy.autonomous.rollout";
  const selector = container(rollout["selector"], `${base}.selector`, report);
  const hashVersion = selector?.["hashVersion"];
  const canary = rollout["canaryPercent"];
  if (!absent(canary)) {
    const inRange = typeof canary === "number" && canary >= 0 && canary <= 100;
    const path = `${base}.canaryPercent`;
    if (hashVersion === 2) {
      // basis-point canaries (semantics §4): at most two decimals
      if (!(inRange && Number.isInteger(Math.round(canary * 100 * 1e6) / 1e6))) {
        report(path, `${path} must be a number between 0 and 100 with at most two decimals when selector.hashVersion is 2`, got(canary));
      }
    } else if (!(inRange && Number.isInteger(canary))) {
      const hint = inRange ? "fractional canaries need selector.hashVersion 2" : got(canary);
      report(path, `${path} must be an integer between 0 and 100 when present`, hint);
    }
  }
  const scope = container(rollout["scope"], `${base}.scope`, report);
  const loopIds = scope?.["loopIds"];
  const path = `${base}.scope.loopIds`;
  if (scope && !absent(loopIds)) {
    if (!Array.isArray(loopIds)) report(path, `${path} must be an array when present`, got(loopIds));
    else if (!loopIds.every((id) => typeof id === "string")) report(path, `${path} entries must be strings`, got(loopIds));
    else if (loopIds.some((id) => id === "")) report(path, `${path} entries must be non-empty strings`);
    else if (new Set(loopIds).size !== loopIds.length) report(path, `${path} entries must be unique`);
    else {
      const unknown = loopIds.filter((id) => !declared.has(id));
      if (unknown.length > 0) report(path, `${path} entries must reference declared loopIds`, `unknown: ${unknown.join(", ")}`);
    }
  }
  if (selector) {
    const salt = selector["salt"];
    const saltPath = `${base}.selector.salt`;
    if (optional(salt, isString, saltPath, `${saltPath} must be a string when present`, report) && salt === "") {
      report(saltPath, `${saltPath} must be non-empty when present`);
    }
    const versionPath = `${base}.selector.hashVersion`;
    optional(hashVersion, (v) => v === 1 || v === 2, versionPath, `${versionPath} must be 1 or 2 when present`, report);
    const modePath = `${base}.selector.mode`;
    optional(
      selector["mode"],
      (v) => v === "percent" || v === "exact",
      modePath,
      `${modePath} must be percent or exact when present`,
      report,
    );
  }
  const pause = container(rollout["pause"], `${base}.pause`, report);
  if (pause) booleanField(pause["manual"], `${base}.pause.manual`, report);
  const autoPause = container(rollout["autoPause"], `${base}.autoPause`, report);
  if (autoPause) {
    booleanField(autoPause["enabled"], `${base}.autoPause.enabled`, report);
    integerField(autoPause["lookbackExecutions"], `${base}.autoPause.lookbackExecutions`, 1, report);
    integerField(autoPause["minSampleSize"], `${base}.autoPause.minSampleSize`, 1, report);
    for (const field of ["ambiguityRateThreshold", "failureRateThreshold"]) {
      const path = `${base}.autoPause.${field}`;
      optional(autoPause[field], rate, path, `${path} must be a number between 0 and 1 when present`, report);
    }
  }
}

function suppressionIssues(value: unknown, declared: ReadonlySet<string>, report: Report): void {
  if (absent(value)) return;
  if (!isJsonObject(value)) {
    report("policy.suppressions", "policy.suppressions must be an object mapping loopId to category arrays", got(value));
    return;
  }
  for (const [key, categories] of Object.entries(value)) {
    const path = `policy.suppressions.${key}`;
    if (key !== "*" && !declared.has(key)) report(path, `${path} key must reference a declared loopId or *`);
    if (!Array.isArray(categories)) report(path, `${path} must be an array`, got(categories));
    else if (!categories.every((category) => typeof category === "string"))
      report(path, `${path} entries must be strings`, got(categories));
    else {
      const unknown = categories.filter((category) => !isCategory(category));
      if (unknown.length > 0)
        report(path, `${path} contains unknown categories`, `unknown: ${unknown.join(", ")}; allowed: ${CATEGORIES.join(", ")}`);
    }
  }
}
