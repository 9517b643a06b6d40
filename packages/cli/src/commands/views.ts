import {
  auditTimeline,
  type ChainBreak,
  type ChainIntegrityError,
  DRILL_IDS,
  type DrillId,
  decisionCheck,
  type FleetStatus,
  fleetStatus,
  isOpsledgerError,
  isTimestamp,
  renderExplanation,
  replay as replayLog,
  runDrill,
  snapshotCheck,
  verifyLog,
} from "@opsledger/core";
import type { Context } from "../context.ts";
import { EXIT, RefusedError, UsageError } from "../exit-codes.ts";
import { flag } from "../invocation.ts";
import { breakLine, plural } from "../io.ts";
import { anchorOptions } from "./proof.ts";

/** A few lines an operator reads first: fleet, autonomy, rollout, governance, outcomes. */
export function printStatus(context: Context, status: FleetStatus): void {
  const { paint } = context.out;
  const a = status.autonomous;
  context.out.line(`${paint.bold(`fleet "${status.source.fleetId}"`)} at ${status.generatedAt} (ledger seq ${status.ledger.seq})`);
  context.out.line(
    `loops: ${status.fleet.loopCount} (${status.healthRollup.healthy} healthy, ${status.healthRollup.degraded} degraded, ${status.healthRollup.critical} critical, ${status.fleet.failedCount} failed, ${status.fleet.skippedCount} skipped) — ${status.fleet.status}`,
  );
  if (!a) {
    context.out.line("no policy applied yet");
    return;
  }
  const g = a.governance;
  context.out.line(`mode: ${a.mode}${a.safetyGateDecisions?.killSwitchActive ? paint.red("  KILL SWITCH ON") : ""}`);
  if (g) {
    const posture =
      g.posture === "active" || g.posture === "not_required"
        ? paint.green(String(g.posture))
        : g.posture === "review_due_soon"
          ? paint.yellow(String(g.posture))
          : paint.red(String(g.posture));
    // `until` is the status document's (the reference's) name for the policy's reviewBy
    context.out.line(
      `governance: ${posture} — by ${g.changedBy ?? "?"} (${g.approvalRef ?? "no approval"}), review by ${g.until ?? "?"}${g.why ? `: ${g.why}` : ""}`,
    );
  }
  if (a.rollout) {
    const r = a.rollout;
    const paused = r.state?.active ? paint.yellow(` paused (${r.state.reasonCodes.join(", ")})`) : "";
    context.out.line(
      `rollout: canary ${r.canaryPercent}% (${r.selectorMode}, hash v${r.hashVersion}), ${r.candidateBuckets?.inCohortCount ?? 0} of ${r.candidateBuckets?.inScopeCount ?? 0} in-scope candidates in the cohort${paused}`,
    );
  }
  const o = a.outcomeRollup;
  if (o)
    context.out.line(
      `last autonomous batch: ${o.attempted} attempted, ${o.executed} executed, ${o.ambiguous} ambiguous, ${o.failed} failed; manual backlog ${o.manual_backlog}`,
    );
  const t = a.outcomeTotals;
  if (t)
    context.out.line(
      `all autonomous batches: ${plural(t.batches ?? 0, "batch")}, ${t.attempted} attempted, ${t.executed} executed, ${t.ambiguous} ambiguous, ${t.failed} failed`,
    );
  if (status.policy)
    context.out.line(
      `evaluation: ${plural(status.policy.candidateCount ?? 0, "candidate")}, reason codes ${(status.policy.reasonCodes ?? []).join(", ")}`,
    );
}

/** The time a view of the past is computed for: --at / OPSLEDGER_NOW when given, else the time of the last event shown. */
export const nowFor = (context: Context, fallback: string | null): Date =>
  (flag(context.invocation, "at") ?? context.io.env["OPSLEDGER_NOW"])
    ? context.clock.now()
    : fallback
      ? new Date(fallback)
      : context.clock.now();

/** A seq the log has: `--seq` / `--until` past the head are refused, not clamped. */
async function seqWithin(context: Context, value: string, flagName: string): Promise<number> {
  const seq = Number(value);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new UsageError(`${flagName} must be a seq (an integer from 1), got ${value}`);
  const head = await context.headSeq();
  if (seq > head) throw new RefusedError(`${flagName} ${seq} is past the end of the log (head seq ${head})`);
  return seq;
}

/**
 * Runs a reading view. On a log with a break it shows what the log holds before the break instead
 * of nothing, says on stderr where the break is, and exits 3 (verification found a break).
 */
async function upToBreak(context: Context, view: (untilSeq?: number, broken?: ChainIntegrityError) => Promise<void>): Promise<number> {
  try {
    await view();
    return 0;
  } catch (error) {
    if (!isOpsledgerError(error, "CHAIN_INTEGRITY") || (error as ChainIntegrityError).seq <= 1) throw error;
    const broken = error as ChainIntegrityError;
    context.out.error(
      `opsledger: the log is broken at seq ${broken.seq} (${broken.kind}): showing it as of seq ${broken.seq - 1}; opsledger verify lists every break`,
    );
    await view(broken.seq - 1, broken);
    return EXIT.broken;
  }
}

const chainBreak = (broken: ChainIntegrityError | undefined) =>
  broken ? { chainBreak: { seq: broken.seq, kind: broken.kind, message: broken.message } } : {};

export async function status(context: Context): Promise<number> {
  const seqFlag = flag(context.invocation, "seq");
  const asOf = seqFlag === undefined ? undefined : await seqWithin(context, seqFlag, "--seq");
  return upToBreak(context, async (untilSeq, broken) => {
    const seq = untilSeq ?? asOf;
    let result: FleetStatus;
    if (seq !== undefined) {
      const state = await context.reading("reading and folding the log", (store) => replayLog(store, context.fleetId, { until: { seq } }));
      result = fleetStatus(state, nowFor(context, state.lastEventAt));
    } else {
      result = await (await context.ledger()).status();
    }
    if (context.out.json) context.out.printJson({ ...result, ...chainBreak(broken) });
    else printStatus(context, result);
  });
}

/** `--until <seq | ISO time>`: a seq the log has, or a time. */
export async function untilOf(context: Context, value: string): Promise<{ readonly seq: number } | { readonly at: string }> {
  if (/^\d+$/.test(value)) return { seq: await seqWithin(context, value, "--until") };
  if (!isTimestamp(value)) throw new UsageError(`--until must be a seq or an ISO-8601 UTC time (2026-02-23T09:00:00Z), got ${value}`);
  return { at: value };
}

export async function replay(context: Context): Promise<number> {
  const until = flag(context.invocation, "until") as string;
  const bound = await untilOf(context, until);
  const state = await context.reading("reading and folding the log", (store) => replayLog(store, context.fleetId, { until: bound }));
  const result = fleetStatus(state, "seq" in bound ? nowFor(context, state.lastEventAt) : new Date(until));
  if (context.out.json) context.out.printJson(result);
  else {
    context.out.line(context.out.paint.dim(`replayed to seq ${state.seq}${state.lastEventAt ? ` (${state.lastEventAt})` : ""}`));
    printStatus(context, result);
  }
  return 0;
}

export async function explain(context: Context): Promise<number> {
  const subject = context.invocation.positionals[0] as string;
  const explanation = await (await context.ledger()).explain(subject);
  if (context.out.json) context.out.printJson(explanation);
  else context.out.line(renderExplanation(explanation));
  return explanation.found ? 0 : EXIT.refused;
}

export async function audit(context: Context): Promise<number> {
  return upToBreak(context, async (untilSeq) => {
    const entries = await context.reading("reading the log", (store) =>
      auditTimeline(store, context.fleetId, untilSeq === undefined ? {} : { untilSeq }),
    );
    if (context.out.json) context.out.printJson(entries);
    else if (entries.length === 0) context.out.line("no governance events recorded");
    else
      context.out.table(
        entries.map((e) => ({
          seq: String(e.seq),
          when: e.at,
          who: e.who,
          what: e.what,
          why: e.why ?? "",
          "review by": e.reviewBy ?? "",
          approval: e.approvalRef ?? "",
        })),
        ["seq", "when", "who", "what", "why", "review by", "approval"],
      );
  });
}

export async function verify(context: Context): Promise<number> {
  const { options: anchors, memory } = await anchorOptions(context);
  const store = await context.store();
  // one read of the log: the chain verified record by record, each verified record folded once,
  // every recorded decision re-run on the fold before it, every stored snapshot compared with it
  const decisionChecks = decisionCheck(context.fleetId);
  // a snapshot is a cache ledgers open from: one the log does not fold to would make them lie
  const snapshotChecks = await snapshotCheck(store, context.fleetId);
  const progress = context.out.progress("verifying the chain and re-running decisions", await context.headSeq());
  const chain = await verifyLog(store, context.fleetId, {
    ...anchors,
    onProgress: (n) => progress.update(n),
    progressEvery: 1,
    onRecord: (envelope, hash) => {
      decisionChecks.record(envelope, hash);
      snapshotChecks.record(decisionChecks.state(), hash);
    },
  });
  progress.done();
  // past a break the fold stops: decisions and snapshots are judged only on a log that verifies
  const decisions = chain.ok ? decisionChecks.report() : { ok: true, checked: 0, breaks: [] };
  const snapshots = chain.ok ? snapshotChecks.findings() : [];
  const snapshotBreaks: ChainBreak[] = snapshots
    .filter((s) => s.verdict === "differs")
    .map((s) => ({ seq: s.seq, kind: "snapshot_mismatch", detail: "the stored snapshot of the fold is not the state the log folds to" }));
  const breaks = [...chain.breaks, ...decisions.breaks, ...snapshotBreaks];
  const rememberedFailed = chain.anchors?.some((a) => a.kind === "remembered" && !a.consistent) === true;
  if (context.out.json)
    context.out.printJson({
      ok: breaks.length === 0,
      head: chain.head,
      count: chain.count,
      decisionsChecked: decisions.checked,
      snapshotsChecked: snapshots.length,
      breaks,
      ...(chain.anchors ? { anchors: chain.anchors } : {}),
      ...(rememberedFailed ? { remembered: memory } : {}),
    });
  else if (breaks.length === 0) {
    const anchored = (chain.anchors ?? []).map((a) => `${a.kind.replace("_", " ")} ${a.size}`);
    context.out.line(
      `${context.out.paint.green("ok")}: ${chain.count} records, head seq ${chain.head?.seq ?? 0} ${chain.head?.hash ?? ""}, ${plural(decisions.checked, "decision")} re-run${snapshots.length > 0 ? `, ${plural(snapshots.length, "snapshot")} checked` : ""}${anchored.length > 0 ? `; consistent with ${anchored.join(", ")}` : ""}`,
    );
  } else {
    context.out.line(`${context.out.paint.red(plural(breaks.length, "break"))} in ${chain.count} records:`);
    for (const b of breaks) context.out.line(breakLine(b));
    if (rememberedFailed)
      context.out.error(`this verifier remembered that checkpoint in ${memory}; if the log was replaced on purpose, remove that file`);
  }
  return breaks.length === 0 ? 0 : EXIT.broken;
}

const DRILL_NAMES: Record<string, DrillId> = Object.fromEntries(DRILL_IDS.map((id) => [id.replace(/_/g, "-"), id]));

export async function drill(context: Context): Promise<number> {
  const name = context.invocation.positionals[0] as string;
  const ids = name === "all" ? [...DRILL_IDS] : [DRILL_NAMES[name] as DrillId];
  const ledger = await context.ledger();
  const results = [];
  for (const id of ids) {
    const by = context.io.env["USER"] || "opsledger-drill";
    results.push(
      await context.reading(`drill ${id}: reading the policy`, (store) =>
        runDrill(id, { store, clock: context.clock, record: ledger, by }),
      ),
    );
  }
  if (context.out.json) context.out.printJson({ ok: results.every((r) => r.status === "pass"), drills: results });
  else {
    for (const r of results) {
      const passed = r.checks.filter((c) => c.passed).length;
      context.out.line(
        `${r.status === "pass" ? context.out.paint.green("pass") : context.out.paint.red("FAIL")} ${r.drillId}: ${passed}/${r.checks.length} checks (ledger ${r.drillLedger})`,
      );
      for (const c of r.checks)
        if (!c.passed) context.out.line(`    ✗ ${c.name}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(c.actual)}`);
    }
  }
  if (results.some((r) => r.status !== "pass")) throw new RefusedError("a drill failed");
  return 0;
}
