import { type EvaluationDocument, previewCohort, safeParseRegistry, selectCohort } from "@opsledger/core";
import { flag, has, list } from "../args.ts";
import { type Context, readJsonFile, refused } from "../context.ts";
import { controlCommandDispatcher } from "../control.ts";
import { RefusedError, UsageError } from "../exit-codes.ts";

const need = (context: Context, index: number, what: string): string => {
  const value = context.parsed.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
};

/** Governance metadata from --actor --approval-ref --rationale [--until]; all three required. */
function governanceFlags(context: Context) {
  const actor = flag(context.parsed, "actor");
  const approvalRef = flag(context.parsed, "approval-ref");
  const rationale = flag(context.parsed, "rationale");
  const missing = [!actor && "--actor", !approvalRef && "--approval-ref", !rationale && "--rationale"].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`governance metadata is required: ${missing.join(", ")}`);
  const until = flag(context.parsed, "until");
  return { actor: actor as string, approvalRef: approvalRef as string, rationale: rationale as string, ...(until ? { until } : {}) };
}

export async function init(context: Context): Promise<number> {
  const ledger = await context.ledger();
  const result = await ledger.init();
  if (context.out.json) context.out.printJson({ ok: true, fleetId: context.fleetId, ...result });
  else
    context.out.line(
      result.created
        ? `created ledger "${context.fleetId}" (seq 1)`
        : `ledger "${context.fleetId}" exists (head seq ${ledger.head()?.seq})`,
    );
  return 0;
}

export async function registryApply(context: Context): Promise<number> {
  const path = need(context, 0, "<registry.json>");
  const document = await readJsonFile(context.io, path, "registry");
  const governance = Object.fromEntries(
    [
      ["actor", flag(context.parsed, "actor")],
      ["approvalRef", flag(context.parsed, "approval-ref")],
      ["rationale", flag(context.parsed, "rationale")],
      ["reviewBy", flag(context.parsed, "review-by")],
      ["approvedBy", flag(context.parsed, "approved-by")],
    ].filter(([, v]) => v !== undefined),
  );
  const ledger = await context.ledger();
  const result = await ledger.applyRegistry(document, Object.keys(governance).length > 0 ? { governance } : {});
  if (!result.ok)
    throw refused(`registry ${path} refused (${result.errors.length} problem${result.errors.length === 1 ? "" : "s"})`, result.errors);
  if (context.out.json) context.out.printJson(result);
  else if (result.change === null) context.out.line(`registry ${path} is identical to the policy in force: nothing recorded`);
  else {
    context.out.line(
      `${context.out.paint.green("applied")} ${path}: ${result.change} at seq ${result.seq} (policy ${result.policyHash.slice(0, 12)})`,
    );
    if (result.changedPaths.length > 0) context.out.line(`changed: ${result.changedPaths.join(", ")}`);
  }
  return 0;
}

export async function registryPreview(context: Context): Promise<number> {
  const path = need(context, 0, "<registry.json>");
  const document = await readJsonFile(context.io, path, "registry");
  const parsed = safeParseRegistry(document, { now: context.clock.now() });
  if (!parsed.ok)
    throw refused(`registry ${path} is invalid (${parsed.errors.length} problem${parsed.errors.length === 1 ? "" : "s"})`, parsed.errors);
  const ledger = await context.ledger();
  const current = ledger.state().fleet.policy?.registry;
  const next = parsed.registry;
  const loopIds = [...new Set([...(current?.loops ?? []).map((l) => l.loopId), ...next.loops.map((l) => l.loopId)])];
  const before = current?.policy.autonomous.rollout ?? { ...next.policy.autonomous.rollout, canaryPercent: 0 };
  const cohort = previewCohort(before, next.policy.autonomous.rollout, loopIds);
  // pending candidates whose eligibility would change: their loop enters or leaves the cohort
  const candidates = (ledger.state().fleet.evaluation?.data.candidates ?? []).filter(
    (c) => cohort.entering.includes(c.loopId) || cohort.leaving.includes(c.loopId),
  );
  const selection = new Map(selectCohort(loopIds, next.policy.autonomous.rollout).map((s) => [s.loopId, s]));
  const changes = candidates.map((c) => ({
    candidateId: c.candidateId,
    eligibleNow: c.eligible,
    inCohortAfter: selection.get(c.loopId)?.inCohort ?? false,
  }));
  if (context.out.json) {
    context.out.printJson({ ok: true, cohort, candidates: changes });
    return 0;
  }
  context.out.line(`cohort: ${cohort.cohortBefore} → ${cohort.cohortAfter} loops`);
  context.out.line(`entering: ${cohort.entering.join(", ") || "(none)"}`);
  context.out.line(`leaving:  ${cohort.leaving.join(", ") || "(none)"}`);
  for (const c of changes)
    context.out.line(
      `  ${c.candidateId}: ${c.inCohortAfter ? "would enter the canary" : "would leave the canary"} (eligible now: ${c.eligibleNow})`,
    );
  context.out.line(context.out.paint.dim("nothing was written"));
  return 0;
}

export async function observe(context: Context): Promise<number> {
  const path = need(context, 0, "<fleet-state.json>");
  const document = await readJsonFile(context.io, path, "fleet state");
  const traceId = flag(context.parsed, "trace-id");
  const ledger = await context.ledger();
  const result = await ledger.observe(document, traceId ? { traceId } : {});
  if (!result.ok) throw refused(`fleet state ${path} refused`, result.errors);
  const o = result.observation;
  if (context.out.json) context.out.printJson({ ok: true, seq: result.seq, observation: o });
  else
    context.out.line(
      `observed ${o.loopCount} loops at seq ${result.seq}: ${o.status} (${o.successCount} ok, ${o.failedCount} failed, ${o.skippedCount} skipped)${o.reasonCodes.length ? ` [${o.reasonCodes.join(", ")}]` : ""}`,
    );
  return 0;
}

export function printEvaluation(context: Context, doc: EvaluationDocument): void {
  const { paint } = context.out;
  context.out.line(
    `evaluation ${doc.evaluationId} (seq ${doc.seq}, ${doc.mode}): ${doc.candidateCount} candidates, ${doc.unsuppressedCount} unsuppressed, ${paint.green(`${doc.autoEligibleCount} auto-eligible`)}, ${doc.manualOnlyCount} manual-only`,
  );
  context.out.line(`reason codes: ${doc.reasonCodes.join(", ")}`);
  for (const c of doc.candidates) {
    const state = c.suppressed ? paint.dim("suppressed") : c.autonomous.eligible ? paint.green("eligible") : paint.yellow("manual-only");
    context.out.line(`  ${c.candidateId.padEnd(36)} ${state}${c.autonomous.reasons.length ? `  ${c.autonomous.reasons.join(", ")}` : ""}`);
  }
}

export async function evaluate(context: Context): Promise<number> {
  const traceId = flag(context.parsed, "trace-id");
  const ledger = await context.ledger();
  const doc = await ledger.evaluate(traceId ? { traceId } : {});
  if (context.out.json) context.out.printJson(doc);
  else printEvaluation(context, doc);
  return 0;
}

export async function dispatch(context: Context): Promise<number> {
  const control = flag(context.parsed, "control");
  if (!control) throw new UsageError("--control <command> is required: the command that carries out each intent");
  const intentIds = list(context.parsed, "intent");
  const autonomous = has(context.parsed, "autonomous");
  if (autonomous === intentIds.length > 0) throw new UsageError("choose one: --autonomous, or --intent <id>... --confirm");
  if (autonomous && has(context.parsed, "confirm")) throw new UsageError("--confirm is only for manual dispatch (--intent)");
  const timeout = flag(context.parsed, "control-timeout");
  const seconds = timeout === undefined ? 30 : Number(timeout);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--control-timeout must be a positive number of seconds, got ${timeout}`);
  const by = flag(context.parsed, "by") ?? context.io.env["USER"] ?? "unknown";
  const note = flag(context.parsed, "note");
  const ledger = await context.ledger();
  const dispatcher = controlCommandDispatcher(control, context.io.env);
  const common = { dispatcher, by, timeoutMs: seconds * 1000, ...(note ? { note } : {}) };
  const batch = autonomous
    ? await ledger.dispatch({ mode: "autonomous", ...common })
    : await ledger.dispatch({ mode: "manual", intentIds, confirm: has(context.parsed, "confirm"), ...common });
  if (!batch.ok) throw refused("dispatch refused", batch.errors);
  if (context.out.json) {
    context.out.printJson(batch);
    return 0;
  }
  const { paint } = context.out;
  context.out.line(
    `${batch.mode} dispatch ${batch.batchId}: ${batch.requestedIntentCount} requested, ${paint.green(`${batch.executedCount} executed`)}, ${paint.yellow(`${batch.ambiguousCount} ambiguous`)}, ${paint.red(`${batch.failedCount} failed`)}`,
  );
  for (const r of batch.results) context.out.line(`  ${r.intentId}: ${r.status} (${r.reasonCode}${r.transport ? `, ${r.transport}` : ""})`);
  for (const s of batch.skipped)
    context.out.line(`  ${s.intentId}: ${paint.yellow("not dispatched")}, autonomy halted (${s.reasonCodes.join(", ")}); pending`);
  context.out.line(`pending confirmation: ${batch.summary.pendingConfirmationCount}; reason codes: ${batch.reasonCodes.join(", ")}`);
  return 0;
}

type Action = "engageKillSwitch" | "releaseKillSwitch" | "pauseRollout" | "resumeRollout" | "resumeAutoPause";

export function operatorCommand(actions: Record<string, Action>, noun: string) {
  return async (context: Context): Promise<number> => {
    const verb = need(context, 0, Object.keys(actions).join("|"));
    const action = actions[verb];
    if (!action) throw new UsageError(`${noun} takes ${Object.keys(actions).join(" or ")}, not ${verb}`);
    const ledger = await context.ledger();
    const result = await ledger[action](governanceFlags(context));
    if (!result.ok) throw refused(`${noun} ${verb} refused`, result.errors);
    if (context.out.json) context.out.printJson(result);
    else
      context.out.line(result.changed ? `${noun} ${verb}: recorded at seq ${result.seq}` : `${noun} ${verb}: already so, nothing recorded`);
    return 0;
  };
}

export async function ack(context: Context): Promise<number> {
  const intentId = need(context, 0, "<intentId>");
  const by = flag(context.parsed, "by");
  if (!by) throw new UsageError("--by <who> is required");
  const note = flag(context.parsed, "note");
  const ledger = await context.ledger();
  const result = await ledger.acknowledgeIntent(intentId, { by, ...(note ? { note } : {}) });
  if (!result.ok) throw new RefusedError(`ack ${intentId} refused`, result.errors);
  if (context.out.json) context.out.printJson(result);
  else context.out.line(`acknowledged ${intentId} at seq ${result.seq}: its next instance is a fresh intent`);
  return 0;
}
