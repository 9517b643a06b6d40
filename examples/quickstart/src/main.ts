// Quickstart: open a ledger, write to it, verify it, and show that tampering is caught.
import { createMemoryEventStore, openLedger, verifyLog } from "@opsledger/core";
import { fixedClock, sequentialIds, tamperMemoryRecord } from "@opsledger/core/testing";

const store = createMemoryEventStore();
// a fixed clock and sequential ids make the run reproducible: same bytes, same hashes, every time
const ledger = await openLedger({ store, fleetId: "default", clock: fixedClock("2026-03-01T09:00:00Z"), ids: sequentialIds("evt") });

const { created, seq } = await ledger.init();
console.log(`ledger "default": created=${created}, head seq ${seq}, hash ${ledger.head()?.hash}`);

const intact = await ledger.verify();
console.log(`verify: ok=${intact.ok}, ${intact.count} record(s), ${intact.breaks.length} break(s)`);

// edit the stored bytes behind the ledger's back, as an attacker with disk access would
tamperMemoryRecord(store, "default", 1, (line) => line.replace('"fleetId":"default"', '"fleetId":"evil"'));
const tampered = await verifyLog(store, "default");
for (const found of tampered.breaks) console.log(`verify after tampering: seq ${found.seq} ${found.kind}: ${found.detail}`);

if (!intact.ok || tampered.ok) process.exit(1);
