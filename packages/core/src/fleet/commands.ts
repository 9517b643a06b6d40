import { isJsonObject } from "../chain/canonical-json.ts";
import type { Registry } from "../contract/normalized-registry.ts";
import { policyHash, safeParseRegistry } from "../contract/registry.ts";
import { parseTimestamp } from "../contract/timestamp.ts";
import type { Issue } from "../errors.ts";
import type { NewEvent } from "../events/catalogue.ts";
import type { FleetObserved, OperatorGovernance, PolicyChange, RecordedOperatorGovernance } from "../events/fleet-events.ts";
import { type Accepted, type CommandContext, type Decision, reject } from "./decision.ts";
import { readFleetState } from "./observe.ts";
import { changedPaths, classifyPolicyChange } from "./policy-change.ts";
import type { FleetState } from "./state.ts";

/** The governance fields a registry apply may supply besides the registry's own. */
export interface ApplyGovernance {
  readonly actor?: string;
  readonly approvalRef?: string;
  readonly rationale?: string;
  readonly reviewBy?: string;
  readonly approvedBy?: string;
  /** Defaults to the apply's time when other fields are supplied. */
  readonly changedAt?: string;
}

/** The result of `applyRegistry`: the change class (null for an identical re-apply) or every problem. */
export type ApplyResult =
  | {
      readonly ok: true;
      readonly change: PolicyChange | null;
      readonly seq: number | null;
      readonly policyHash: string;
      readonly changedPaths: readonly string[];
    }
  | { readonly ok: false; readonly errors: readonly Issue[] };

/** The result of an operator command: whether it changed anything, and the seq of its event. */
export type OperatorResult =
  | { readonly ok: true; readonly changed: boolean; readonly seq: number | null }
  | { readonly ok: false; readonly errors: readonly Issue[] };

/** The result of `observe`. */
export type ObserveResult =
  | { readonly ok: true; readonly seq: number; readonly observation: FleetObserved }
  | { readonly ok: false; readonly errors: readonly Issue[] };

// the supplied governance fields override the registry's own, before validation
function withGovernance(json: unknown, supplied: ApplyGovernance | undefined, now: Date): unknown {
  if (!supplied || Object.keys(supplied).length === 0) return json;
  let document = json;
  if (typeof json === "string") {
    try {
      document = JSON.parse(json);
    } catch {
      return json; // the parser reports it
    }
  }
  if (!isJsonObject(document)) return document;
  const policy = isJsonObject(document["policy"]) ? document["policy"] : {};
  const autonomous = isJsonObject(policy["autonomous"]) ? policy["autonomous"] : {};
  const governance = isJsonObject(autonomous["governance"]) ? autonomous["governance"] : {};
  const changedAt = supplied.changedAt ?? now.toISOString();
  return { ...document, policy: { ...policy, autonomous: { ...autonomous, governance: { ...governance, ...supplied, changedAt } } } };
}

/** Decides a registry apply: validate (governance fails closed), classify, and record the normalized policy. */
export function decideApplyRegistry(
  state: FleetState,
  json: unknown,
  governance: ApplyGovernance | undefined,
  { now, firstSeq }: CommandContext,
): Decision<Accepted<ApplyResult>> {
  const parsed = safeParseRegistry(withGovernance(json, governance, now), { now });
  if (!parsed.ok) return reject("INVALID_INPUT", parsed.errors);
  const registry: Registry = parsed.registry;
  const hash = policyHash(registry);
  const previous = state.policy?.registry ?? null;
  const change = classifyPolicyChange(previous, registry);
  const paths = previous === null ? [] : changedPaths(previous, registry);
  if (change === null) return { events: [], result: { ok: true, change: null, seq: null, policyHash: hash, changedPaths: [] } };
  const g = registry.policy.autonomous.governance;
  const recorded = {
    ...(g.actor === undefined ? {} : { actor: g.actor }),
    ...(g.approvalRef === undefined ? {} : { approvalRef: g.approvalRef }),
    ...(g.rationale === undefined ? {} : { rationale: g.rationale }),
    ...(g.changedAt === undefined ? {} : { changedAt: g.changedAt }),
    ...(g.reviewBy === undefined ? {} : { reviewBy: g.reviewBy }),
    ...(g.approvedBy === undefined ? {} : { approvedBy: g.approvedBy }),
  };
  const event: NewEvent = {
    type: "PolicyApplied",
    data: {
      registry,
      policyHash: hash,
      change,
      previousMode: previous?.policy.mode ?? null,
      previousPolicyHash: state.policy?.hash ?? null,
      changedPaths: paths,
      governance: recorded,
    },
    ...(g.actor === undefined ? {} : { actor: g.actor }),
  };
  return { events: [event], result: { ok: true, change, seq: firstSeq, policyHash: hash, changedPaths: paths } };
}

/** The operator latches a command can flip. */
export type OperatorAction = "KillSwitchEngaged" | "KillSwitchReleased" | "RolloutPaused" | "RolloutResumed" | "AutoPauseResumed";

// Stopping autonomy needs who and why; moving toward it also needs the approval.
const APPROVAL_REQUIRED: Record<OperatorAction, boolean> = {
  KillSwitchEngaged: false,
  RolloutPaused: false,
  KillSwitchReleased: true,
  RolloutResumed: true,
  AutoPauseResumed: true,
};
const GOVERNANCE_KEYS = new Set(["actor", "rationale", "approvalRef", "approvedBy", "changedAt", "reviewBy"]);

/** Every problem of an operator command's governance (each message names its field), or the governance to record. */
function checkOperatorGovernance(
  action: OperatorAction,
  input: unknown,
  now: Date,
): { ok: true; governance: RecordedOperatorGovernance } | { ok: false; errors: Issue[] } {
  if (!isJsonObject(input)) return { ok: false, errors: [{ path: "governance", message: "governance must be an object" }] };
  const errors: Issue[] = [];
  const problem = (field: string, message: string) =>
    errors.push({ path: `governance.${field}`, message: `governance.${field} ${message}` });
  const text = (field: string, required: boolean) => {
    const value = input[field];
    if (value === undefined) {
      if (required) problem(field, "is required");
    } else if (typeof value !== "string" || value.trim() === "") problem(field, "must be a non-empty string");
  };
  text("actor", true);
  text("rationale", true);
  text("approvalRef", APPROVAL_REQUIRED[action]);
  text("approvedBy", false);
  for (const key of Object.keys(input)) {
    if (key === "until") problem(key, "is now governance.reviewBy (one name for the deadline, as in policy governance)");
    else if (!GOVERNANCE_KEYS.has(key)) problem(key, `is not a governance field (${[...GOVERNANCE_KEYS].join(", ")})`);
  }
  const changedAt = input["changedAt"] === undefined ? now.getTime() : parseTimestamp(input["changedAt"]);
  if (changedAt === undefined) problem("changedAt", "must be an ISO-8601 UTC timestamp (2026-02-23T09:00:00Z)");
  const reviewBy = input["reviewBy"] === undefined ? undefined : parseTimestamp(input["reviewBy"]);
  if (input["reviewBy"] !== undefined) {
    if (reviewBy === undefined) problem("reviewBy", "must be an ISO-8601 UTC timestamp (2026-02-23T09:00:00Z)");
    else if (reviewBy <= now.getTime() || (changedAt !== undefined && reviewBy <= changedAt))
      problem("reviewBy", "must be in the future and after governance.changedAt");
  }
  if (errors.length > 0) return { ok: false, errors };
  const given = input as unknown as OperatorGovernance;
  return {
    ok: true,
    governance: {
      actor: given.actor,
      rationale: given.rationale,
      ...(given.approvalRef === undefined ? {} : { approvalRef: given.approvalRef }),
      ...(given.approvedBy === undefined ? {} : { approvedBy: given.approvedBy }),
      changedAt: given.changedAt ?? now.toISOString(),
      ...(given.reviewBy === undefined ? {} : { reviewBy: given.reviewBy }),
    },
  };
}

/**
 * Decides an operator command. Engaging the kill switch or pausing the rollout needs an actor and
 * a rationale; releasing and resuming also an approval reference. Every timestamp is checked.
 * Flipping a latch to where it is records nothing.
 */
export function decideOperatorAction(
  state: FleetState,
  action: OperatorAction,
  governance: OperatorGovernance,
  { now, firstSeq }: CommandContext,
): Decision<Accepted<OperatorResult>> {
  const checked = checkOperatorGovernance(action, governance, now);
  if (!checked.ok) return reject("INVALID_INPUT", checked.errors);
  const already =
    (action === "KillSwitchEngaged" && state.killSwitch.active) ||
    (action === "KillSwitchReleased" && !state.killSwitch.active) ||
    (action === "RolloutPaused" && state.rolloutPause.active) ||
    (action === "RolloutResumed" && !state.rolloutPause.active) ||
    (action === "AutoPauseResumed" && state.autoPause.latch === null);
  if (already) return { events: [], result: { ok: true, changed: false, seq: null } };
  return {
    events: [{ type: action, data: { governance: checked.governance }, actor: checked.governance.actor }],
    result: { ok: true, changed: true, seq: firstSeq },
  };
}

/** Decides an observation: the reference's fleet state v1, read against the registry in force. */
export function decideObserve(
  state: FleetState,
  json: unknown,
  traceId: string | undefined,
  { firstSeq }: CommandContext,
): Decision<Accepted<ObserveResult>> {
  let document = json;
  if (typeof json === "string") {
    try {
      document = JSON.parse(json);
    } catch (error) {
      return reject("INVALID_INPUT", [{ path: "(root)", message: `fleet state is not valid JSON: ${(error as Error).message}` }]);
    }
  }
  const read = readFleetState(document, state.policy?.registry ?? null);
  if (!read.ok) return reject("INVALID_INPUT", read.errors);
  const observation = traceId === undefined ? read.observation : { ...read.observation, traceId };
  return {
    events: [{ type: "FleetObserved", data: observation, ...(observation.traceId ? { traceId: observation.traceId } : {}) }],
    result: { ok: true, seq: firstSeq, observation },
  };
}
