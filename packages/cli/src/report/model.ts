// What the investigation report shows, as plain data: built from one verifying read of the log
// (the verification result, the timeline marks, the dispatch batches, the policy periods) and the
// fold up to the report's point in time (cohort, explanations, backlog). The page only draws it.
import {
  assessGovernance,
  type ChainBreak,
  computePlan,
  type DispatchCompleted,
  type DispatchRequested,
  type DispatchSkipped,
  type EventStore,
  type Explanation,
  explain,
  initialLedgerState,
  type LedgerState,
  type PolicyApplied,
  REVIEW_DUE_SOON_SECONDS,
  type ReplayUntil,
  selectCohort,
  type TimelineEntry,
  timelineEntry,
  type VerifyOptions,
  verifyLog,
} from "@opsledger/core";

/** The lanes of the timeline, in the order they are drawn: one per kind of audited event. */
export const LANES = ["policy", "mode", "kill switch", "rollout pause", "auto-pause", "drill", "acknowledgement"] as const;
export type Lane = (typeof LANES)[number];

const LANE_OF_EVENT: Record<string, Lane> = {
  PolicyApplied: "policy",
  KillSwitchEngaged: "kill switch",
  KillSwitchReleased: "kill switch",
  RolloutPaused: "rollout pause",
  RolloutResumed: "rollout pause",
  AutoPauseTripped: "auto-pause",
  AutoPauseResumed: "auto-pause",
  DrillRecorded: "drill",
  IntentAcknowledged: "acknowledgement",
};

/** Explanations are embedded for at most this many loops (the ones with candidates first): past it the page says how to ask. */
export const EMBEDDED_EXPLANATIONS = 2_000;

/** A mark of the timeline: one audited event (a row `opsledger audit` prints) and its lane. */
export type TimelineMark = Omit<TimelineEntry, "hash"> & { readonly lane: Lane };

/** One dispatch batch and how its intents ended. */
export interface BatchPoint {
  readonly seq: number;
  readonly at: string;
  readonly batchId: string;
  readonly mode: "autonomous" | "manual";
  readonly attempted: number;
  readonly executed: number;
  readonly ambiguous: number;
  readonly failed: number;
}

/**
 * The batches column by column, times in epoch milliseconds: a long log holds tens of thousands
 * of batches, and columns keep a 100k-event log's report under a few MB.
 */
export type BatchColumns = { readonly [K in keyof Omit<BatchPoint, "at">]: BatchPoint[K][] } & { readonly atMs: number[] };

function columns(points: readonly BatchPoint[]): BatchColumns {
  const pick = <K extends keyof BatchPoint>(key: K): BatchPoint[K][] => points.map((p) => p[key]);
  return {
    seq: pick("seq"),
    atMs: points.map((p) => Date.parse(p.at)),
    batchId: pick("batchId"),
    mode: pick("mode"),
    attempted: pick("attempted"),
    executed: pick("executed"),
    ambiguous: pick("ambiguous"),
    failed: pick("failed"),
  };
}

/** A stretch of time under one applied policy with one governance posture. */
export interface PosturePeriod {
  readonly policySeq: number;
  readonly from: string;
  readonly to: string;
  readonly posture: string;
  readonly mode: string;
  readonly actor: string | null;
  readonly reviewBy: string | null;
}

/** A loop placed in the rollout, with its explanation when embedded. */
export interface CohortLoop {
  readonly loopId: string;
  readonly bucket: number;
  /** The loop's place in its bucket's stack (0 at the bottom), so the picture needs no layout of its own. */
  readonly stack: number;
  readonly placement: "in cohort" | "out of canary" | "out of scope";
  readonly candidates: number;
  readonly explanation: Explanation | null;
}

/** An intent of the backlog at the report's point in time. */
export interface BacklogIntent {
  readonly intentId: string;
  readonly loopId: string;
  readonly category: string;
  readonly intent: string;
  readonly severity: string;
  readonly reasons: readonly string[];
  readonly lastOutcome: string | null;
}

export interface ReportModel {
  readonly fleetId: string;
  readonly generatedAt: string;
  /** The point in time the fold is shown at: the seq and the time the views are computed for. */
  readonly asOf: { readonly seq: number; readonly at: string; readonly until: string | null };
  readonly verification: {
    readonly ok: boolean;
    readonly count: number;
    readonly head: { readonly seq: number; readonly hash: string } | null;
    /** The last seq the report could read in order: the head of a verified log, the record before the first break otherwise. */
    readonly readUpTo: number;
    readonly breaks: readonly ChainBreak[];
    readonly anchors: readonly { readonly kind: string; readonly size: number; readonly consistent: boolean }[];
  };
  readonly timeline: readonly TimelineMark[];
  readonly batches: BatchColumns;
  readonly autoPause: {
    readonly enabled: boolean;
    readonly ambiguityRateThreshold: number;
    readonly failureRateThreshold: number;
    readonly lookbackExecutions: number;
    readonly minSampleSize: number;
  } | null;
  readonly posture: readonly PosturePeriod[];
  readonly cohort: {
    readonly canaryPercent: number;
    readonly hashVersion: 1 | 2;
    readonly selectorMode: string;
    /** Buckets run from 0 to range − 1 (100 under hash v1, 10,000 under v2). */
    readonly range: number;
    readonly policySeq: number;
    readonly evaluationSeq: number | null;
    readonly loops: readonly CohortLoop[];
    readonly explanationsOmitted: number;
  } | null;
  readonly backlog: { readonly manual: readonly BacklogIntent[]; readonly retryGuarded: readonly BacklogIntent[] };
}

/** How far the report reads, and the anchors its verification checks. */
export interface ReportInput {
  readonly store: EventStore;
  readonly fleetId: string;
  /** The fold to show: `replay` up to a point (the report bounds it by --until and by the first break). */
  readonly fold: (until: ReplayUntil | undefined) => Promise<LedgerState>;
  /** The time the views are computed for (governance posture, cooldowns). */
  readonly now: (state: LedgerState) => Date;
  readonly until: { readonly seq: number } | { readonly at: string } | null;
  readonly anchors: Omit<VerifyOptions, "onRecord">;
  readonly generatedAt: Date;
  readonly onProgress?: (records: number) => void;
}

/** Builds the report's data: verification first (the whole log), then the views as of the report's point. */
export async function buildReport(input: ReportInput): Promise<ReportModel> {
  const { until } = input;
  const untilMs = until && "at" in until ? Date.parse(until.at) : undefined;
  const within = (seq: number, at: string) =>
    until === null ? true : "seq" in until ? seq <= until.seq : Date.parse(at) <= (untilMs as number);

  // the last seq at or before a time bound: a broken log is then folded by seq, up to the break
  let lastWithin = 0;
  const timeline: TimelineMark[] = [];
  const batches = new Map<string, { point: BatchPoint; skipped: number }>();
  const policies: { seq: number; at: string; data: PolicyApplied }[] = [];
  const report = await verifyLog(input.store, input.fleetId, {
    ...input.anchors,
    ...(input.onProgress ? { onProgress: input.onProgress, progressEvery: 1 } : {}),
    onRecord: (envelope, hash) => {
      if (!within(envelope.seq, envelope.at)) return;
      lastWithin = envelope.seq;
      const entry = timelineEntry(envelope, hash);
      if (entry) {
        const applied = envelope.type === "PolicyApplied" ? (envelope.data as unknown as PolicyApplied) : null;
        const lane = applied?.change === "autonomous_mode_toggled" ? "mode" : (LANE_OF_EVENT[envelope.type] as Lane);
        const { hash: _, ...mark } = entry;
        timeline.push({ ...mark, lane });
        if (applied) policies.push({ seq: envelope.seq, at: envelope.at, data: applied });
      }
      if (envelope.type === "DispatchRequested") {
        const data = envelope.data as unknown as DispatchRequested;
        batches.set(data.batchId, {
          point: {
            seq: envelope.seq,
            at: envelope.at,
            batchId: data.batchId,
            mode: data.mode,
            attempted: data.intents.length,
            executed: 0,
            ambiguous: 0,
            failed: 0,
          },
          skipped: 0,
        });
      } else if (envelope.type === "DispatchCompleted" || envelope.type === "DispatchSkipped") {
        const data = envelope.data as unknown as DispatchCompleted | DispatchSkipped;
        const batch = batches.get(data.batchId);
        if (!batch) return;
        if ("status" in data) batch.point = { ...batch.point, [data.status]: batch.point[data.status] + 1 };
        else batch.skipped++;
      }
    },
  });
  const firstBreak = report.breaks.reduce<number | undefined>((min, b) => (min === undefined || b.seq < min ? b.seq : min), undefined);
  const readUpTo = firstBreak === undefined ? (report.head?.seq ?? 0) : firstBreak - 1;
  // on a broken log the fold stops at the last record both verified and within --until
  const bound: ReplayUntil | undefined = firstBreak === undefined ? (until ?? undefined) : { seq: Math.min(lastWithin, readUpTo) };
  // a log broken at its first record has nothing to fold
  const state = bound && "seq" in bound && bound.seq === 0 ? initialLedgerState(input.fleetId) : await input.fold(bound);
  const now = input.now(state);

  return {
    fleetId: input.fleetId,
    generatedAt: input.generatedAt.toISOString(),
    asOf: { seq: state.seq, at: now.toISOString(), until: until === null ? null : "seq" in until ? String(until.seq) : until.at },
    verification: {
      ok: report.ok,
      count: report.count,
      head: report.head,
      readUpTo,
      breaks: report.breaks,
      anchors: report.anchors ?? [],
    },
    // marks past a break are not the log as verified: the report stops where the chain does
    timeline: timeline.filter((mark) => mark.seq <= readUpTo),
    batches: columns(
      [...batches.values()]
        .filter(({ point }) => point.seq <= readUpTo)
        .map(({ point, skipped }) => ({ ...point, attempted: point.attempted - skipped })),
    ),
    autoPause: autoPauseOf(state),
    posture: postureOver(
      policies.filter((p) => p.seq <= readUpTo),
      now,
    ),
    cohort: cohortOf(state),
    backlog: backlogOf(state, now),
  };
}

function autoPauseOf(state: LedgerState): ReportModel["autoPause"] {
  const autoPause = state.fleet.policy?.registry.policy.autonomous.rollout.autoPause;
  if (!autoPause) return null;
  const { enabled, ambiguityRateThreshold, failureRateThreshold, lookbackExecutions, minSampleSize } = autoPause;
  return { enabled, ambiguityRateThreshold, failureRateThreshold, lookbackExecutions, minSampleSize };
}

/**
 * The governance posture of each applied policy from its apply to the next (the last one to the
 * report's time), split where it changes: due soon from 7 days before the review, expired at it.
 */
function postureOver(policies: readonly { seq: number; at: string; data: PolicyApplied }[], end: Date): PosturePeriod[] {
  const periods: PosturePeriod[] = [];
  policies.forEach((policy, i) => {
    const from = Date.parse(policy.at);
    const to = Math.max(from, i + 1 < policies.length ? Date.parse((policies[i + 1] as { at: string }).at) : end.getTime());
    const { governance } = policy.data;
    const mode = policy.data.registry.policy.mode;
    const reviewBy = governance.reviewBy ? Date.parse(governance.reviewBy) : Number.NaN;
    const cuts = [from, ...[reviewBy - REVIEW_DUE_SOON_SECONDS * 1000, reviewBy].filter((t) => t > from && t < to), to];
    for (let k = 0; k + 1 < cuts.length; k++) {
      const start = cuts[k] as number;
      const stop = cuts[k + 1] as number;
      const posture = assessGovernance(mode, governance, start).posture;
      const last = periods.at(-1);
      // neighbours with the same posture under one policy are one period
      if (last && last.policySeq === policy.seq && last.posture === posture) {
        periods[periods.length - 1] = { ...last, to: new Date(stop).toISOString() };
        continue;
      }
      periods.push({
        policySeq: policy.seq,
        from: new Date(start).toISOString(),
        to: new Date(stop).toISOString(),
        posture,
        mode,
        actor: governance.actor ?? null,
        reviewBy: governance.reviewBy ?? null,
      });
    }
  });
  return periods;
}

// every loop the rollout is over (declared and observed), placed under the policy in force
function cohortOf(state: LedgerState): ReportModel["cohort"] {
  const { policy, observation, evaluation } = state.fleet;
  if (!policy) return null;
  const { rollout } = policy.registry.policy.autonomous;
  const loopIds = [...new Set([...policy.registry.loops.map((l) => l.loopId), ...(observation?.data.results.map((r) => r.loopId) ?? [])])];
  const candidates = new Map<string, number>();
  for (const c of evaluation?.data.candidates ?? []) candidates.set(c.loopId, (candidates.get(c.loopId) ?? 0) + 1);
  // explanations for the loops with candidates first (the ones an investigator asks about), up to the cap
  const explained = new Set(
    [...loopIds].sort((a, b) => Number(candidates.has(b)) - Number(candidates.has(a))).slice(0, EMBEDDED_EXPLANATIONS),
  );
  const heights = new Map<number, number>();
  const loops = selectCohort(loopIds, rollout).map((s): CohortLoop => {
    const stack = heights.get(s.bucket) ?? 0;
    heights.set(s.bucket, stack + 1);
    return {
      loopId: s.loopId,
      bucket: s.bucket,
      stack,
      placement: s.inCohort ? "in cohort" : s.inScope ? "out of canary" : "out of scope",
      candidates: candidates.get(s.loopId) ?? 0,
      explanation: explained.has(s.loopId) ? explain(state.fleet, s.loopId) : null,
    };
  });
  return {
    canaryPercent: rollout.canaryPercent,
    hashVersion: rollout.selector.hashVersion,
    selectorMode: rollout.selector.mode,
    range: rollout.selector.hashVersion === 1 ? 100 : 10_000,
    policySeq: policy.seq,
    evaluationSeq: evaluation?.seq ?? null,
    loops,
    explanationsOmitted: loopIds.length - explained.size,
  };
}

// the manual backlog (pending intents autonomy may not take) and the intents a retry guard holds
function backlogOf(state: LedgerState, now: Date): ReportModel["backlog"] {
  const { intents } = computePlan(state.fleet, now);
  const view = (i: (typeof intents)[number]): BacklogIntent => ({
    intentId: i.intentId,
    loopId: i.loopId,
    category: i.category,
    intent: i.intent,
    severity: i.severity,
    reasons: i.autonomous.reasons,
    lastOutcome: i.lastOutcome ? `${i.lastOutcome.status} (${i.lastOutcome.reasonCode ?? "no reason"}, ${i.lastOutcome.batchId})` : null,
  });
  return {
    manual: intents.filter((i) => i.status === "pending_operator_confirmation" && i.autonomous.manualOnly).map(view),
    retryGuarded: intents.filter((i) => i.autonomous.reasons.some((r) => r.startsWith("autonomous_retry_guard_"))).map(view),
  };
}
