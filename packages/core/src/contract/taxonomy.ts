/** Candidate categories of taxonomy v1, in the reference's order. */
export const CATEGORIES = ["reconcile_failed", "health_critical", "health_degraded"] as const;
export type Category = (typeof CATEGORIES)[number];

export const SEVERITIES = ["critical", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CONFIDENCES = ["high", "medium", "low"] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** Fleet-level intents; only `cancel` exists in taxonomy v1. */
export const INTENTS = ["cancel"] as const;
export type Intent = (typeof INTENTS)[number];

export const TAXONOMY_VERSION = "v1";

/** Ordinal ranks: critical 3 > warning 2 > info 1; high 3 > medium 2 > low 1. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 3, warning: 2, info: 1 };
export const CONFIDENCE_RANK: Readonly<Record<Confidence, number>> = { high: 3, medium: 2, low: 1 };

/** What taxonomy v1 says of each category. */
export interface CategoryDefinition {
  readonly category: Category;
  readonly signal: "status_failed" | "health_critical" | "health_degraded";
  readonly severity: Severity;
  readonly confidence: Confidence;
  readonly rationale: string;
  readonly recommendedIntent: Intent;
}

export const TAXONOMY: Readonly<Record<Category, CategoryDefinition>> = {
  reconcile_failed: {
    category: "reconcile_failed",
    signal: "status_failed",
    severity: "critical",
    confidence: "high",
    rationale: "Loop reconcile failed during fleet fan-out.",
    recommendedIntent: "cancel",
  },
  health_critical: {
    category: "health_critical",
    signal: "health_critical",
    severity: "critical",
    confidence: "high",
    rationale: "Loop health is critical.",
    recommendedIntent: "cancel",
  },
  health_degraded: {
    category: "health_degraded",
    signal: "health_degraded",
    severity: "warning",
    confidence: "medium",
    rationale: "Loop health is degraded.",
    recommendedIntent: "cancel",
  },
};

// The categories fleet results yield under taxonomy v1 (failed → reconcile_failed; critical or
// degraded health → health_*, whatever the status, as in the reference), in code-point order, as
// shared lists indexed by a mask: critical 1 | degraded 2 | failed 4. A loop listed more than once
// yields the union of its entries' masks.
export const RESULT_CATEGORY_LISTS: readonly (readonly Category[])[] = [
  [],
  ["health_critical"],
  ["health_degraded"],
  ["health_critical", "health_degraded"],
  ["reconcile_failed"],
  ["health_critical", "reconcile_failed"],
  ["health_degraded", "reconcile_failed"],
  ["health_critical", "health_degraded", "reconcile_failed"],
];

/** Which of {@link RESULT_CATEGORY_LISTS} a fleet result yields. */
export const resultCategoryMask = (result: { readonly status: string; readonly healthStatus: string }): number =>
  (result.status === "failed" ? 4 : 0) + (result.healthStatus === "critical" ? 1 : result.healthStatus === "degraded" ? 2 : 0);

/** The categories a fleet result yields, in code-point order (a shared list). */
export const resultCategories = (result: { readonly status: string; readonly healthStatus: string }): readonly Category[] =>
  RESULT_CATEGORY_LISTS[resultCategoryMask(result)] as readonly Category[];

export const isCategory = (value: unknown): value is Category => CATEGORIES.includes(value as Category);
export const isIntent = (value: unknown): value is Intent => INTENTS.includes(value as Intent);
