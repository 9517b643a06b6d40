// Commands on one ledger instance over the fs store: 64 concurrent observe() calls (the ledger
// serializes them and group-commits those that queue up) against the same number of sequential
// calls in the same run. Usage: ledger.mjs observe
import { join } from "node:path";
import { openLedger } from "@opsledger/core";
import { fleetStateDocument } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { measure, remove, report, tempDir } from "../lib.mjs";

const CALLS = 64;
const dir = await tempDir("ledger");
let round = 0;
const document = (i) => fleetStateDocument([{ loopId: `loop-${i % 8}`, healthStatus: i % 3 ? "healthy" : "critical" }]);

async function observes(concurrent) {
  const store = createFsEventStore({ dir: join(dir, `store-${round++}`) });
  const ledger = await openLedger({ store, fleetId: "bench" });
  await ledger.init();
  const started = performance.now();
  if (concurrent) await Promise.all(Array.from({ length: CALLS }, (_, i) => ledger.observe(document(i))));
  else for (let i = 0; i < CALLS; i++) await ledger.observe(document(i));
  const rate = CALLS / ((performance.now() - started) / 1000);
  await store.close();
  return rate;
}

const value = await measure(() => observes(true), { runs: 5 });
const baseline = await measure(() => observes(false), { runs: 5 });
await remove(dir);
report({ value, unit: "calls/s", baseline });
