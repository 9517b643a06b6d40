import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  auditTimeline,
  type Dispatcher,
  type DispatchReport,
  type Ledger,
  openLedger,
  selectCohort,
  verifyDecisions,
  verifyLog,
} from "@opsledger/core";
// the demo writes its fleet states with the same helper tests use (the reference state.json v1 shape)
import { fleetStateDocument, type LoopResultInput } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import type { Context } from "../context.ts";
import { RefusedError } from "../exit-codes.ts";
import { printStatus } from "./views.ts";

const MARKER = ".opsledger-demo";
const LOOPS = ["payments", "search", "batch"].flatMap((team) =>
  Array.from({ length: 12 }, (_, i) => `${team}-${String(i + 1).padStart(2, "0")}`),
);

function registry(mode: "advisory" | "guarded_auto", changedAt: Date, options: { canaryPercent: number }) {
  return {
    schemaVersion: "v1",
    fleetId: "default",
    loops: LOOPS.map((loopId) => ({
      loopId,
      transport: loopId.startsWith("search") ? "sprite_service" : "local",
      ...(loopId.startsWith("search") ? { service: { baseUrl: `http://${loopId}.sprites.internal` } } : {}),
      metadata: { team: loopId.split("-")[0] },
    })),
    policy: {
      mode,
      noiseControls: { dedupeWindowSeconds: 300 },
      autonomous: {
        allow: { categories: ["reconcile_failed", "health_critical"], intents: ["cancel"] },
        thresholds: { minSeverity: "critical", minConfidence: "high" },
        safety: { maxActionsPerRun: 3, maxActionsPerLoop: 1, cooldownSeconds: 900, killSwitch: false },
        rollout: {
          canaryPercent: options.canaryPercent,
          selector: { salt: "fleet-autonomous-rollout-v1" },
          autoPause: { enabled: true, lookbackExecutions: 3, minSampleSize: 3, ambiguityRateThreshold: 0.5, failureRateThreshold: 0.5 },
        },
        governance: {
          actor: "alice",
          approvalRef: "CAB-1042",
          rationale: "guarded autonomy for a 25% canary after the Q1 review",
          changedAt: changedAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
          reviewBy: new Date(changedAt.getTime() + 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        },
      },
    },
  };
}

/**
 * The main job: a scripted day of a simulated fleet of 36 loops on a filesystem store, printing
 * what happens — guarded autonomy enabled with governance, a 25% canary, a failure spike that trips
 * auto-pause, an operator resume, a kill switch engaged and released, an ambiguous outcome guarded
 * and acknowledged — then the status, the audit timeline and a verification of the log.
 */
export async function demo(context: Context): Promise<number> {
  const dir = resolve(context.io.cwd, context.invocation.positionals[0] ?? "./.opsledger-demo");
  await prepareDirectory(dir);
  const { out } = context;
  const { paint } = out;
  // the simulated day is yesterday, so every event is in the past whenever the log is read
  const today = context.clock.now();
  const day = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - 1));
  let now = new Date(day);
  const at = (hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number) as [number, number];
    now = new Date(day.getTime() + (h * 60 + m) * 60_000);
  };
  const clock = { now: () => new Date(now) };
  const store = createFsEventStore({ dir });
  const ledger = await openLedger({ store, fleetId: "default", clock });
  const say = (text: string) => out.line(`${paint.dim(`[${now.toISOString().slice(11, 16)}]`)} ${text}`);
  const healthy = (): LoopResultInput[] =>
    LOOPS.map((loopId) => ({ loopId, transport: loopId.startsWith("search") ? "sprite_service" : "local" }));
  const observe = async (overrides: Record<string, Partial<LoopResultInput>>, trace: string) => {
    const result = await ledger.observe(
      fleetStateDocument(
        healthy().map((r) => ({ ...r, ...overrides[r.loopId] })),
        { traceId: trace, updatedAt: now.toISOString() },
      ),
    );
    if (!result.ok) throw new RefusedError("demo observation refused", result.errors);
    return result.observation;
  };
  const control =
    (decide: (loopId: string) => DispatchReport): Dispatcher =>
    async (intent) =>
      decide(intent.loopId);
  const show = async (label: string, batch: Awaited<ReturnType<Ledger["dispatch"]>>) => {
    if (!batch.ok) throw new RefusedError("demo dispatch refused", batch.errors);
    say(
      `${label}: ${batch.requestedIntentCount} dispatched — ${batch.results.map((r) => `${r.loopId} ${r.status === "executed" ? paint.green(r.status) : r.status === "ambiguous" ? paint.yellow(r.status) : paint.red(r.status)}`).join(", ") || "nothing eligible"}`,
    );
    return batch;
  };

  out.line(paint.bold(`opsledger demo — a day of a 36-loop fleet, logged to ${dir}`));
  out.line();

  at("08:00");
  await ledger.applyRegistry(registry("advisory", now, { canaryPercent: 25 }));
  await observe({}, "reconcile-0800");
  await ledger.evaluate();
  say(`registry applied in advisory mode; ${LOOPS.length} loops observed, all healthy: no action`);

  at("08:30");
  const applied = await ledger.applyRegistry(registry("guarded_auto", now, { canaryPercent: 25 }));
  const cohort = selectCohort(LOOPS, ledger.state().fleet.policy?.registry.policy.autonomous.rollout as never)
    .filter((s) => s.inCohort)
    .map((s) => s.loopId);
  say(
    `alice enables guarded autonomy (CAB-1042, review in 30 days): ${applied.ok ? applied.change : "refused"}; the 25% canary holds ${cohort.length} loops`,
  );
  const inCohort = cohort.filter((id) => !id.startsWith("search"));
  const outside = LOOPS.filter((id) => !cohort.includes(id) && !id.startsWith("search"));

  at("09:00");
  const morning = [inCohort[0], inCohort[1], outside[0], outside[1]] as string[];
  await observe(Object.fromEntries(morning.map((id) => [id, { healthStatus: "critical" as const }])), "reconcile-0900");
  let doc = await ledger.evaluate();
  say(
    `${morning.length} loops turn critical: ${doc.autoEligibleCount} eligible for autonomy (canary), ${doc.manualOnlyCount} left to operators`,
  );
  await show(
    "autonomous dispatch",
    await ledger.dispatch({ mode: "autonomous", dispatcher: control(() => ({ status: "confirmed" })), by: "autonomy-svc" }),
  );

  at("10:30");
  const spriteCohort = cohort.filter((id) => id.startsWith("search")).slice(0, 3);
  const outage = spriteCohort.length > 0 ? spriteCohort : inCohort.slice(2, 5);
  await observe(
    Object.fromEntries(
      outage.map((id) => [
        id,
        {
          status: "failed" as const,
          reasonCode: "transport_unreachable",
          healthStatus: "degraded" as const,
          healthReasonCodes: ["transport_unreachable"],
        },
      ]),
    ),
    "reconcile-1030",
  );
  doc = await ledger.evaluate();
  say(`sprite service outage: ${outage.join(", ")} fail to reconcile; ${doc.autoEligibleCount} eligible`);
  await show(
    "autonomous dispatch",
    await ledger.dispatch({
      mode: "autonomous",
      dispatcher: control(() => ({ status: "failed", transport: "service_unreachable", detail: "connection refused" })),
      by: "autonomy-svc",
    }),
  );

  at("10:45");
  doc = await ledger.evaluate();
  const auto = doc.rollout.pause.auto;
  say(
    `${auto.active ? paint.yellow("auto-pause tripped") : "auto-pause not tripped"}: failure rate ${auto.metrics.failureRate} over ${auto.metrics.attemptedCount} attempts (${auto.reasons.join(", ")})`,
  );
  await show(
    "autonomous dispatch while paused",
    await ledger.dispatch({ mode: "autonomous", dispatcher: control(() => ({ status: "confirmed" })), by: "autonomy-svc" }),
  );

  at("11:15");
  await observe({}, "reconcile-1115");
  const resumed = await ledger.resumeAutoPause({
    actor: "bob",
    approvalRef: "CAB-1043",
    rationale: "sprite service restored, failed intents reviewed",
  });
  say(`bob resumes auto-pause after the fix (CAB-1043): ${resumed.ok && resumed.changed ? "latch cleared" : "no change"}`);

  at("13:00");
  await ledger.engageKillSwitch({
    actor: "carol",
    approvalRef: "INC-77",
    rationale: "payments team reports unexpected cancels",
    reviewBy: new Date(now.getTime() + 3_600_000).toISOString(),
  });
  say(paint.red("carol engages the kill switch (INC-77)"));
  at("13:05");
  const lunch = [inCohort[3] ?? inCohort[0], inCohort[4] ?? inCohort[1]] as string[];
  await observe(
    Object.fromEntries(lunch.map((id) => [id, { status: "failed" as const, healthStatus: "critical" as const }])),
    "reconcile-1305",
  );
  doc = await ledger.evaluate();
  say(`${lunch.join(", ")} fail: ${doc.autoEligibleCount} eligible — every candidate carries autonomous_kill_switch_enabled`);
  const held = await show(
    "autonomous dispatch under the kill switch",
    await ledger.dispatch({ mode: "autonomous", dispatcher: control(() => ({ status: "confirmed" })), by: "autonomy-svc" }),
  );
  const manualTarget = held.ok ? held.intents.find((i) => i.loopId === lunch[0])?.intentId : undefined;
  if (manualTarget)
    await show(
      `carol dispatches ${manualTarget} by hand`,
      await ledger.dispatch({
        mode: "manual",
        intentIds: [manualTarget],
        confirm: true,
        dispatcher: control(() => ({ status: "confirmed" })),
        by: "carol",
      }),
    );
  at("13:30");
  await observe({}, "reconcile-1330");
  await ledger.releaseKillSwitch({ actor: "carol", approvalRef: "INC-77", rationale: "root cause fixed: a stale health probe" });
  say(paint.green("carol releases the kill switch"));

  at("15:00");
  const afternoon = inCohort[5] ?? inCohort[0];
  await observe({ [afternoon as string]: { healthStatus: "critical" } }, "reconcile-1500");
  await ledger.evaluate();
  const ambiguous = await show(
    "autonomous dispatch",
    await ledger.dispatch({
      mode: "autonomous",
      dispatcher: control(() => ({ status: "ambiguous", detail: "cancel accepted, loop state unknown" })),
      by: "autonomy-svc",
    }),
  );
  at("15:10");
  const guarded = await show(
    "autonomous dispatch again",
    await ledger.dispatch({ mode: "autonomous", dispatcher: control(() => ({ status: "confirmed" })), by: "autonomy-svc" }),
  );
  const guardedIntent = guarded.ok
    ? guarded.intents.find((i) => i.autonomous.reasons.includes("autonomous_retry_guard_ambiguous"))
    : undefined;
  if (guardedIntent) say(`${guardedIntent.intentId} is retry-guarded (autonomous_retry_guard_ambiguous): never retried blindly`);
  at("15:20");
  const ambiguousId = ambiguous.ok ? ambiguous.results[0]?.intentId : undefined;
  if (ambiguousId) {
    await ledger.acknowledgeIntent(ambiguousId, { by: "dave", note: "checked by hand: the run was cancelled" });
    say(`dave acknowledges ${ambiguousId}: the guard clears for its next instance`);
  }

  at("17:00");
  await observe({}, "reconcile-1700");
  say("end of day: every loop reconciles healthy");

  out.line();
  out.line(paint.bold("fleet status"));
  printStatus(context, await ledger.status());
  out.line();
  out.line(paint.bold("audit timeline"));
  const entries = await auditTimeline(store, "default");
  out.table(
    entries.map((e) => ({
      seq: String(e.seq),
      when: e.at.slice(11, 16),
      who: e.who,
      what: e.what.length > 70 ? `${e.what.slice(0, 67)}…` : e.what,
      why: e.why ?? "",
      "review by": e.reviewBy?.slice(0, 16) ?? "",
    })),
    ["seq", "when", "who", "what", "why", "review by"],
  );
  out.line();
  const chain = await verifyLog(store, "default");
  const decisions = await verifyDecisions(store, "default");
  out.line(
    `${chain.ok && decisions.ok ? paint.green("verified") : paint.red("BROKEN")}: ${chain.count} records, head ${chain.head?.hash.slice(0, 16)}…, ${decisions.checked} decisions re-run, ${chain.breaks.length + decisions.breaks.length} breaks`,
  );
  out.line();
  out.line("try next:");
  for (const command of [
    "status",
    "audit",
    `explain ${afternoon}`,
    "verify",
    `replay --until ${entries.find((e) => e.event === "KillSwitchEngaged")?.seq ?? 1}`,
  ]) {
    out.line(`  npx opsledger ${command} --store ${dir}`);
  }
  await store.close();
  return chain.ok && decisions.ok ? 0 : 3;
}

// a fresh directory, or one a previous demo left (it carries the marker); never anything else
async function prepareDirectory(dir: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (entries.length > 0) {
    if (!entries.includes(MARKER))
      throw new RefusedError(`${dir} is not empty and was not made by opsledger demo: choose another directory`);
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MARKER), "made by opsledger demo; safe to delete\n");
}
