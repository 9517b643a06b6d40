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
const got = (value: unknown): string => `got ${JSON.stringify(value)}`;
const TIMESTAMP_FORMAT = "expected YYYY-MM-DDTHH:MM:SS[.mmm]Z, a real calendar instant in UTC";

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
    report("(root)", "registry must be a JSON object", got(Array.isArray(input) ? "array" : input));
    return issues;
  }
  if (input["schemaVersion"] !== "v1") report("schemaVersion", 'schemaVersion must be "v1"', got(input["schemaVersion"] ?? null));
  if (!absent(input["fleetId"]) && typeof input["fleetId"] !== "string") {
    report("fleetId", "fleetId must be a string when present", got(input["fleetId"]));
  }
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
    if (!isJsonObject(entry)) {
      say("", "entry must be an object", got(entry));
      if (entry !== null) return;
    }
    const loop: Json = isJsonObject(entry) ? entry : {};
    if (!nonEmptyString(loop["loopId"])) say("loopId", "loopId must be a non-empty string", got(loop["loopId"] ?? null));
    if (loop["enabled"] != null && typeof loop["enabled"] !== "boolean") {
      say("enabled", "enabled must be boolean when present", got(loop["enabled"]));
    }
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
    if (sprite && !absent(sprite["id"]) && !nonEmptyString(sprite["id"])) {
      say("sprite.id", "sprite.id must be a non-empty string when present", got(sprite["id"]));
    }
    if (service) {
      if (!absent(service["tokenEnv"]) && !nonEmptyString(service["tokenEnv"])) {
        say("service.tokenEnv", "service.tokenEnv must be a non-empty string when present", got(service["tokenEnv"]));
      }
      const attempts = service["retryAttempts"];
      if (!absent(attempts) && !(typeof attempts === "number" && attempts >= 1)) {
        say("service.retryAttempts", "service.retryAttempts must be >= 1 when present", got(attempts));
      }
      const backoff = service["retryBackoffSeconds"];
      if (!absent(backoff) && !(typeof backoff === "number" && backoff >= 0)) {
        say("service.retryBackoffSeconds", "service.retryBackoffSeconds must be >= 0 when present", got(backoff));
      }
    }
    // semantics §2 row 27: the reference never type-checks the URL fields (ours, so spelled with our path)
    const baseUrl = service?.["baseUrl"];
    const spriteBaseUrl = sprite?.["serviceBaseUrl"];
    for (const [field, url] of [
      ["service.baseUrl", baseUrl],
      ["sprite.serviceBaseUrl", spriteBaseUrl],
    ] as const) {
      if (!absent(url) && typeof url !== "string") report(at(field), `${at(field)} must be a string when present`, got(url));
    }
    // the reference takes the first URL that is not null or false, so "" does not fall back
    const url = !absent(baseUrl) ? baseUrl : spriteBaseUrl;
    if (transport === "sprite_service" && !nonEmptyString(url)) {
      say("", "sprite_service loops require service.baseUrl or sprite.serviceBaseUrl", got(url ?? null));
    }
    if (!absent(loop["metadata"]) && !isJsonObject(loop["metadata"])) {
      say("metadata", "metadata must be an object when present", got(loop["metadata"]));
    }
  });
}

/** A non-negative / positive integer field: the reference's `must be an integer >= N when present`. */
function integerAtLeast(object: Json, field: string, path: string, min: number, report: Report): void {
  const value = object[field];
  if (!absent(value) && !(isInteger(value) && value >= min)) report(path, `${path} must be an integer >= ${min} when present`, got(value));
}

/** A boolean field read through `//` (false is fine either way). */
function booleanField(object: Json, field: string, path: string, report: Report): void {
  const value = object[field];
  if (!absent(value) && typeof value !== "boolean") report(path, `${path} must be boolean when present`, got(value));
}

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
  if (absent(value)) return;
  if (typeof value !== "string") report(path, `${path} must be a string when present`, got(value));
  else if (!allowed.includes(value)) report(path, `${path} must be one of ${allowed.join(", ")}`, got(value));
}

function policyIssues(policy: Json, declared: ReadonlySet<string>, now: number, report: Report): void {
  const mode = absent(policy["mode"]) ? "advisory" : policy["mode"];
  if (mode !== "advisory" && mode !== "guarded_auto") report("policy.mode", "policy.mode must be advisory or guarded_auto", got(mode));
  const noise = container(policy["noiseControls"], "policy.noiseControls", report);
  if (noise) integerAtLeast(noise, "dedupeWindowSeconds", "policy.noiseControls.dedupeWindowSeconds", 0, report);

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
        integerAtLeast(safety, field, `policy.autonomous.safety.${field}`, 0, report);
      }
      booleanField(safety, "killSwitch", "policy.autonomous.safety.killSwitch", report);
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
  if (governance) {
    for (const field of ["actor", "approvalRef", "rationale"]) {
      const text = governance[field];
      if (!absent(text) && !nonEmptyString(text))
        report(`${base}.${field}`, `${base}.${field} must be a non-empty string when present`, got(text));
    }
  }
  const fields: Json = governance ?? {};
  const time = (field: string) => parseTimestamp(absent(fields[field]) ? undefined : fields[field]);
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
  booleanField(governance, "requireDistinctApprover", `${base}.requireDistinctApprover`, report);
  const approvedBy = governance["approvedBy"];
  if (!absent(approvedBy) && !nonEmptyString(approvedBy)) {
    report(`${base}.approvedBy`, `${base}.approvedBy must be a non-empty string when present`, got(approvedBy));
  }
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
    if (!absent(salt) && typeof salt !== "string")
      report(`${base}.selector.salt`, `${base}.selector.salt must be a string when present`, got(salt));
    else if (salt === "") report(`${base}.selector.salt`, `${base}.selector.salt must be non-empty when present`);
    if (!absent(hashVersion) && hashVersion !== 1 && hashVersion !== 2) {
      report(`${base}.selector.hashVersion`, `${base}.selector.hashVersion must be 1 or 2 when present`, got(hashVersion));
    }
    const mode = selector["mode"];
    if (!absent(mode) && mode !== "percent" && mode !== "exact") {
      report(`${base}.selector.mode`, `${base}.selector.mode must be percent or exact when present`, got(mode));
    }
  }
  const pause = container(rollout["pause"], `${base}.pause`, report);
  if (pause) booleanField(pause, "manual", `${base}.pause.manual`, report);
  const autoPause = container(rollout["autoPause"], `${base}.autoPause`, report);
  if (autoPause) {
    booleanField(autoPause, "enabled", `${base}.autoPause.enabled`, report);
    integerAtLeast(autoPause, "lookbackExecutions", `${base}.autoPause.lookbackExecutions`, 1, report);
    integerAtLeast(autoPause, "minSampleSize", `${base}.autoPause.minSampleSize`, 1, report);
    for (const field of ["ambiguityRateThreshold", "failureRateThreshold"]) {
      const rate = autoPause[field];
      if (!absent(rate) && !(typeof rate === "number" && rate >= 0 && rate <= 1)) {
        report(`${base}.autoPause.${field}`, `${base}.autoPause.${field} must be a number between 0 and 1 when present`, got(rate));
      }
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
