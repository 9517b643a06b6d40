// One of several processes appending to the same fs ledger through openLedger and its retry loop.
import { openLedger } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";

const [dir, name, count] = process.argv.slice(2);
const store = createFsEventStore({ dir, segmentBytes: 64 * 1024 });
const ledger = await openLedger({ store, fleetId: "shared" });
let conflicts = 0;
for (let i = 0; i < Number(count); i++) {
  let attempts = 0;
  await ledger.execute(() => {
    attempts++;
    return { events: [{ type: "FleetObserved", data: observation(`${name}-${i}`) }], result: null };
  });
  conflicts += attempts - 1;
}
await store.close();
process.stdout.write(JSON.stringify({ name, appended: Number(count), conflicts }));

function observation(traceId) {
  return {
    traceId,
    status: "success",
    reasonCodes: [],
    loopCount: 1,
    successCount: 1,
    failedCount: 0,
    skippedCount: 0,
    results: [
      { loopId: "loop-a", status: "success", healthStatus: "healthy", healthReasonCodes: [], transport: "local", registered: false },
    ],
  };
}
