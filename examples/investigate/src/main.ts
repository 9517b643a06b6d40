// Investigating an incident by replay: a log records a day; the question is "why did autonomy
// cancel loop-red at 09:05, and why did it leave loop-blue alone at 14:00?". Replay folds the log
// up to a point; explain answers gate by gate from the decision recorded there.
import { createMemoryEventStore, explain, openLedger, renderExplanation, replay, verifyDecisions } from "@opsledger/core";
import { fixedClock, fleetStateDocument, guardedRegistry, operator } from "@opsledger/core/testing";

// the day being investigated (in real life: a copy of the fs directory or the S3 prefix)
const store = createMemoryEventStore();
const clock = fixedClock("2026-03-01T09:00:00Z");
const ledger = await openLedger({ store, fleetId: "default", clock });
await ledger.applyRegistry(guardedRegistry({ loops: ["loop-red", "loop-blue"] }));
await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }, { loopId: "loop-blue" }]));
clock.advance(5 * 60_000);
await ledger.evaluate();
await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }), by: "autonomy" });
clock.set("2026-03-01T13:30:00Z");
await ledger.engageKillSwitch(operator("carol", "INC-42", "investigating cancels"));
clock.set("2026-03-01T14:00:00Z");
await ledger.observe(fleetStateDocument([{ loopId: "loop-red" }, { loopId: "loop-blue", status: "failed" }]));
await ledger.evaluate();

for (const [question, at, loopId] of [
  ["why was loop-red cancelled at 09:05?", "2026-03-01T09:05:00Z", "loop-red"],
  ["why was loop-blue left alone at 14:00?", "2026-03-01T14:00:00Z", "loop-blue"],
] as const) {
  const state = await replay(store, "default", { until: { at } });
  console.log(`\n${question}  (replayed to seq ${state.seq})`);
  console.log(renderExplanation(explain(state.fleet, loopId)));
}

// and was any recorded decision edited afterwards?
const decisions = await verifyDecisions(store, "default");
console.log(
  `\n${decisions.checked} recorded decisions re-run: ${decisions.ok ? "all reproduce" : `${decisions.breaks.length} mismatch(es)`}`,
);
if (!decisions.ok) process.exit(1);
