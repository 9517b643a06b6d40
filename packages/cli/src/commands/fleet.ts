import { type EvaluationDocument, type Ledger, previewCohort, safeParseRegistry, selectCohort } from "@opsledger/core";
import { type Context, readJsonFile, refused } from "../context.ts";
import { controlCommandDispatcher } from "../control.ts";
import { EXIT, RefusedError, UsageError } from "../exit-codes.ts";
import { flag, has, list } from "../invocation.ts";
import { plural } from "../io.ts";

const need = (context: Context, index: number, what: string): string => {
  const value = context.invocation.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
};

/** The governance flags of a command, by the field names of policy governance; absent flags are left out. */
function governanceFlags(context: Context): Record<string, string> {
  if (flag(context.invocation, "until") !== undefined)
    throw new UsageError("--until is now --review-by: one name for the deadline, as in registry apply and the registry's governance");
  const fields = { actor: "actor", approvalRef: "approval-ref", rationale: "rationale", reviewBy: "review-by", approvedBy: "approved-by" };
  return Object.fromEntries(
    Object.entries(fields).flatMap(([field, name]) => {
      const value = flag(context.invocation, name);
      return value === undefined ? [] : [[field, value]];
    }),
  );
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
  refuseOtherFleet(context, document, path);
  const governance = governanceFlags(context);
  const ledger = await context.ledger();
  const result = await ledger.applyRegistry(document, Object.keys(governance).length > 0 ? { governance } : {});
  if (!result.ok) throw refused(`registry ${path} refused (${plural(result.errors.length, "problem")})`, result.errors);
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
  if (!parsed.ok) throw refused(`registry ${path} is invalid (${plural(parsed.errors.length, "problem")})`, parsed.errors);
  refuseOtherFleet(context, document, path);
  // a preview writes nothing: with no store yet it compares against no policy, and creates nothing
  const fleet = (await context.storeExists()) ? (await context.ledger()).state().fleet : undefined;
  const current = fleet?.policy?.registry;
  const next = parsed.registry;
  const loopIds = [...new Set([...(current?.loops ?? []).map((l) => l.loopId), ...next.loops.map((l) => l.loopId)])];
  const before = current?.policy.autonomous.rollout ?? { ...next.policy.autonomous.rollout, canaryPercent: 0 };
  const cohort = previewCohort(before, next.policy.autonomous.rollout, loopIds);
  // pending candidates whose eligibility would change: their loop enters or leaves the cohort
  const candidates = (fleet?.evaluation?.data.candidates ?? []).filter(
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

// a registry names its fleet: applying it to another one is a mistake worth stopping
function refuseOtherFleet(context: Context, document: unknown, path: string): void {
  const declared = (document as { fleetId?: unknown } | null)?.fleetId;
  if (typeof declared === "string" && declared !== "" && declared !== context.fleetId)
    throw new RefusedError(
      `registry ${path} is for fleet "${declared}", not "${context.fleetId}": pass --fleet ${declared} (or change its fleetId)`,
    );
}

export async function observe(context: Context): Promise<number> {
  const path = need(context, 0, "<fleet-state.json>");
  const document = await readJsonFile(context.io, path, "fleet state");
  const traceId = flag(context.invocation, "trace-id");
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
    `evaluation ${doc.evaluationId} (seq ${doc.seq}, ${doc.mode}): ${plural(doc.candidateCount, "candidate")}, ${doc.unsuppressedCount} unsuppressed, ${paint.green(`${doc.autoEligibleCount} auto-eligible`)}, ${doc.manualOnlyCount} manual-only`,
  );
  context.out.line(`reason codes: ${doc.reasonCodes.join(", ")}`);
  for (const c of doc.candidates) {
    const state = c.suppressed ? paint.dim("suppressed") : c.autonomous.eligible ? paint.green("eligible") : paint.yellow("manual-only");
    context.out.line(`  ${c.candidateId.padEnd(36)} ${state}${c.autonomous.reasons.length ? `  ${c.autonomous.reasons.join(", ")}` : ""}`);
  }
}

export async function evaluate(context: Context): Promise<number> {
  const traceId = flag(context.invocation, "trace-id");
  const ledger = await context.ledger();
  const doc = await ledger.evaluate(traceId ? { traceId } : {});
  if (context.out.json) context.out.printJson(doc);
  else printEvaluation(context, doc);
  return 0;
}

// setTimeout holds 2^31-1 ms; a day is more than any control command should take
const MAX_CONTROL_TIMEOUT_SECONDS = 86_400;

export async function dispatch(context: Context): Promise<number> {
  const control = flag(context.invocation, "control") as string;
  const intentIds = list(context.invocation, "intent");
  const autonomous = has(context.invocation, "autonomous");
  if (autonomous === intentIds.length > 0) throw new UsageError("choose one: --autonomous, or --intent <id>... --confirm");
  if (autonomous && has(context.invocation, "confirm")) throw new UsageError("--confirm is only for manual dispatch (--intent)");
  if (autonomous && has(context.invocation, "again")) throw new UsageError("--again is only for manual dispatch (--intent)");
  const timeout = flag(context.invocation, "control-timeout") ?? "30";
  const seconds = Number(timeout);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_CONTROL_TIMEOUT_SECONDS)
    throw new UsageError(
      `--control-timeout must be a number of seconds above 0 and at most ${MAX_CONTROL_TIMEOUT_SECONDS}, got ${timeout}`,
    );
  const by = flag(context.invocation, "by") ?? context.io.env["USER"];
  if (!by) throw new UsageError("--by <who> is required: $USER is not set, and a dispatch is recorded with who did it");
  const note = flag(context.invocation, "note");
  const ledger = await context.ledger();
  const dispatcher = controlCommandDispatcher(control, context.io.env);
  const common = { dispatcher, by, timeoutMs: seconds * 1000, ...(note ? { note } : {}) };
  const batch = autonomous
    ? await ledger.dispatch({ mode: "autonomous", ...common })
    : await ledger.dispatch({
        mode: "manual",
        intentIds,
        confirm: has(context.invocation, "confirm"),
        again: has(context.invocation, "again"),
        ...common,
      });
  if (!batch.ok) throw refused("dispatch refused", batch.errors);
  const code = batch.failedCount + batch.ambiguousCount > 0 ? EXIT.partial : EXIT.ok;
  if (context.out.json) {
    context.out.printJson(batch);
    return code;
  }
  const { paint } = context.out;
  const verbose = has(context.invocation, "verbose");
  context.out.line(
    `${batch.mode} dispatch ${batch.batchId}: ${batch.requestedIntentCount} requested, ${paint.green(`${batch.executedCount} executed`)}, ${paint.yellow(`${batch.ambiguousCount} ambiguous`)}, ${paint.red(`${batch.failedCount} failed`)}`,
  );
  for (const r of batch.results) {
    context.out.line(`  ${r.intentId}: ${r.status} (${r.reasonCode}${r.transport ? `, ${r.transport}` : ""})`);
    if (verbose && r.output) for (const line of r.output.split("\n")) context.out.line(paint.dim(`    | ${line}`));
  }
  for (const s of batch.skipped)
    context.out.line(`  ${s.intentId}: ${paint.yellow("not dispatched")}, autonomy halted (${s.reasonCodes.join(", ")}); pending`);
  if (batch.requestedIntentCount === 0) context.out.line(nothingToDispatch(batch.summary));
  context.out.line(`pending confirmation: ${batch.summary.pendingConfirmationCount}; reason codes: ${batch.reasonCodes.join(", ")}`);
  if (code === EXIT.partial)
    context.out.error(`opsledger dispatch: ${plural(batch.failedCount, "intent")} failed and ${batch.ambiguousCount} ambiguous (exit 5)`);
  return code;
}

// an empty batch deserves a reason
function nothingToDispatch(summary: {
  intentCount: number;
  executedCount: number;
  inFlightCount: number;
  pendingManualOnlyCount: number;
}): string {
  if (summary.intentCount === 0) return "nothing to dispatch: the last evaluation has no intents";
  return `nothing to dispatch: no pending intent is auto-eligible (${summary.executedCount} executed, ${summary.pendingManualOnlyCount} manual-only, ${summary.inFlightCount} in flight; see opsledger explain <loopId>)`;
}

type Action = "engageKillSwitch" | "releaseKillSwitch" | "pauseRollout" | "resumeRollout" | "resumeAutoPause";

/** `killswitch on`, `rollout pause`, …: one ledger action with the governance flags; a refusal exits 1. */
export function operatorCommand(action: Action, name: string) {
  return async (context: Context): Promise<number> => {
    const governance = governanceFlags(context) as unknown as Parameters<Ledger[Action]>[0];
    const ledger = await context.ledger();
    const result = await ledger[action](governance);
    if (!result.ok) throw refused(`${name} refused: nothing was recorded`, result.errors);
    if (context.out.json) context.out.printJson(result);
    else context.out.line(result.changed ? `${name}: recorded at seq ${result.seq}` : `${name}: already so, nothing recorded`);
    return 0;
  };
}

export async function ack(context: Context): Promise<number> {
  const intentId = need(context, 0, "<intentId>");
  const by = flag(context.invocation, "by");
  if (!by) throw new UsageError("--by <who> is required");
  const note = flag(context.invocation, "note");
  const ledger = await context.ledger();
  const result = await ledger.acknowledgeIntent(intentId, { by, ...(note ? { note } : {}) });
  if (!result.ok) throw new RefusedError(`ack ${intentId} refused`, result.errors);
  if (context.out.json) context.out.printJson(result);
  else context.out.line(`acknowledged ${intentId} at seq ${result.seq}: its next instance is a fresh intent`);
  return 0;
}
