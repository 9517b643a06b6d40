// A controller that dies mid-dispatch: it evaluates, starts an autonomous dispatch whose control
// call never returns, reports "dispatching" on stdout, and waits to be killed with SIGKILL.
import { openLedger } from "@opsledger/core";
import { fleetStateDocument, guardedRegistry } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";

const [dir] = process.argv.slice(2);
const ledger = await openLedger({ store: createFsEventStore({ dir }), fleetId: "default" });
await ledger.applyRegistry(guardedRegistry({ governance: { changedAt: "2026-01-01T00:00:00Z", reviewBy: "2099-01-01T00:00:00Z" } }));
await ledger.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
await ledger.evaluate();
await ledger.dispatch({
  mode: "autonomous",
  by: "controller",
  timeoutMs: 3_600_000,
  dispatcher: () => {
    process.stdout.write("dispatching\n");
    return new Promise(() => undefined);
  },
});
