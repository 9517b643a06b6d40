import { canonicalJson, isJsonObject } from "../chain/canonical-json.ts";
import type { Registry } from "../contract/normalized-registry.ts";
import type { PolicyChange } from "../events/fleet-events.ts";

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/**
 * The audit class of a policy change (reference §7.2): initialized when there was no policy,
 * mode toggled when the mode changed (even if controls changed too), mutated when the autonomous
 * controls or governance changed; `registry_updated` (opsledger) for changes the reference never
 * audited (loops, suppressions, noise controls); null when nothing changed.
 */
export function classifyPolicyChange(previous: Registry | null, next: Registry): PolicyChange | null {
  if (previous === null) return "autonomous_policy_initialized";
  if (previous.policy.mode !== next.policy.mode) return "autonomous_mode_toggled";
  if (!same(previous.policy.autonomous, next.policy.autonomous)) return "autonomous_policy_mutated";
  return same(previous, next) ? null : "registry_updated";
}

/** The JSON paths whose values differ between two documents (arrays compared whole), sorted. */
export function changedPaths(previous: unknown, next: unknown, path = ""): string[] {
  if (isJsonObject(previous) && isJsonObject(next)) {
    const keys = [...new Set([...Object.keys(previous), ...Object.keys(next)])].sort();
    return keys.flatMap((key) => changedPaths(previous[key], next[key], path ? `${path}.${key}` : key));
  }
  if (previous === undefined && next === undefined) return [];
  if (previous === undefined || next === undefined) return [path];
  return same(previous, next) ? [] : [path];
}
