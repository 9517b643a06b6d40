import {
  auditTimeline,
  DRILL_IDS,
  type DrillId,
  type FleetStatus,
  fleetStatus,
  renderExplanation,
  replay as replayLog,
  runDrill,
  verifyDecisions,
  verifyLog,
} from "@opsledger/core";
import { flag } from "../args.ts";
import type { Context } from "../context.ts";
import { EXIT, RefusedError, UsageError } from "../exit-codes.ts";

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
    context.out.line(
      `governance: ${posture} — by ${g.changedBy ?? "?"} (${g.approvalRef ?? "no approval"}) until ${g.until ?? "?"}${g.why ? `: ${g.why}` : ""}`,
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
      `all autonomous batches: ${t.batches} batches, ${t.attempted} attempted, ${t.executed} executed, ${t.ambiguous} ambiguous, ${t.failed} failed`,
    );
  if (status.policy)
    context.out.line(
      `evaluation: ${status.policy.candidateCount} candidates, reason codes ${(status.policy.reasonCodes ?? []).join(", ")}`,
    );
}

const nowFor = (context: Context, fallback: string | null): Date =>
  (flag(context.parsed, "at") ?? context.io.env["OPSLEDGER_NOW"])
    ? context.clock.now()
    : fallback
      ? new Date(fallback)
      : context.clock.now();

export async function status(context: Context): Promise<number> {
  const seqFlag = flag(context.parsed, "seq");
  let result: FleetStatus;
  if (seqFlag !== undefined) {
    const seq = Number(seqFlag);
    if (!Number.isSafeInteger(seq) || seq < 0) throw new UsageError(`--seq must be a non-negative integer, got ${seqFlag}`);
    const state = await replayLog(await context.store(), context.fleetId, { until: { seq } });
    result = fleetStatus(state, nowFor(context, state.lastEventAt));
  } else {
    result = await (await context.ledger()).status();
  }
  if (context.out.json) context.out.printJson(result);
  else printStatus(context, result);
  return 0;
}

export async function replay(context: Context): Promise<number> {
  const until = flag(context.parsed, "until");
  if (!until) throw new UsageError("--until <seq | ISO time> is required");
  const isSeq = /^\d+$/.test(until);
  if (!isSeq && Number.isNaN(Date.parse(until))) throw new UsageError(`--until: not a seq or an ISO time: ${until}`);
  const state = await replayLog(await context.store(), context.fleetId, { until: isSeq ? { seq: Number(until) } : { at: until } });
  const result = fleetStatus(state, isSeq ? nowFor(context, state.lastEventAt) : new Date(until));
  if (context.out.json) context.out.printJson(result);
  else {
    context.out.line(context.out.paint.dim(`replayed to seq ${state.seq}${state.lastEventAt ? ` (${state.lastEventAt})` : ""}`));
    printStatus(context, result);
  }
  return 0;
}

export async function explain(context: Context): Promise<number> {
  const subject = context.parsed.positionals[0];
  if (!subject) throw new UsageError("missing <loopId | candidateId | intentId>");
  const explanation = await (await context.ledger()).explain(subject);
  if (context.out.json) context.out.printJson(explanation);
  else context.out.line(renderExplanation(explanation));
  return explanation.found ? 0 : EXIT.refused;
}

export async function audit(context: Context): Promise<number> {
  const entries = await auditTimeline(await context.store(), context.fleetId);
  if (context.out.json) {
    context.out.printJson(entries);
    return 0;
  }
  if (entries.length === 0) {
    context.out.line("no governance events recorded");
    return 0;
  }
  context.out.table(
    entries.map((e) => ({
      seq: String(e.seq),
      when: e.at,
      who: e.who,
      what: e.what,
      why: e.why ?? "",
      until: e.until ?? "",
      approval: e.approvalRef ?? "",
    })),
    ["seq", "when", "who", "what", "why", "until", "approval"],
  );
  return 0;
}

export async function verify(context: Context): Promise<number> {
  const store = await context.store();
  const progress = context.out.progress("verifying");
  const chain = await verifyLog(store, context.fleetId, { onProgress: (n) => progress.tick(n), progressEvery: 50_000 });
  progress.done();
  const decisions = chain.ok ? await verifyDecisions(store, context.fleetId) : { ok: true, checked: 0, breaks: [] };
  const breaks = [...chain.breaks, ...decisions.breaks];
  if (context.out.json)
    context.out.printJson({ ok: breaks.length === 0, head: chain.head, count: chain.count, decisionsChecked: decisions.checked, breaks });
  else if (breaks.length === 0) {
    context.out.line(
      `${context.out.paint.green("ok")}: ${chain.count} records, head seq ${chain.head?.seq ?? 0} ${chain.head?.hash ?? ""}, ${decisions.checked} decisions re-run`,
    );
  } else {
    context.out.line(`${context.out.paint.red(`${breaks.length} break${breaks.length === 1 ? "" : "s"}`)} in ${chain.count} records:`);
    for (const b of breaks) context.out.line(`  seq ${b.seq} ${b.kind}${b.location ? ` at ${b.location}` : ""}: ${b.detail}`);
  }
  return breaks.length === 0 ? 0 : EXIT.broken;
}

const DRILL_NAMES: Record<string, DrillId> = Object.fromEntries(DRILL_IDS.map((id) => [id.replace(/_/g, "-"), id]));

export async function drill(context: Context): Promise<number> {
  const name = context.parsed.positionals[0];
  if (!name) throw new UsageError(`missing drill: ${Object.keys(DRILL_NAMES).join(" | ")} | all`);
  const ids = name === "all" ? [...DRILL_IDS] : [DRILL_NAMES[name] ?? DRILL_NAMES[name.replace(/_/g, "-")]];
  if (ids.some((id) => id === undefined)) throw new UsageError(`unknown drill ${name}: ${Object.keys(DRILL_NAMES).join(" | ")} | all`);
  const store = await context.store();
  const ledger = await context.ledger();
  const results = [];
  for (const id of ids as DrillId[]) {
    const progress = context.out.progress(`drill ${id}`);
    progress.tick(0);
    results.push(await runDrill(id, { store, clock: context.clock, record: ledger, by: context.io.env["USER"] ?? "opsledger-drill" }));
    progress.done();
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
