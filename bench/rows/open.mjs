// Open + status on a long log: a ledger opened on a 1M-event fs log (from the snapshot its first
// open wrote) and its status document, beside the same on a 1k-event log in the same run; each
// open starts from a fresh store object, as a CLI command does. Usage: open.mjs
import { join } from "node:path";
import { openLedger } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";
import { fill, measure, remove, report, tempDir } from "../lib.mjs";

const dir = await tempDir("open");
const LONG = 1_000_000;
const SHORT = 1_000;

async function openAndStatus(path) {
  const store = createFsEventStore({ dir: path });
  const started = performance.now();
  const ledger = await openLedger({ store, fleetId: "fleet" });
  await ledger.status();
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return seconds;
}

const long = join(dir, "long");
const short = join(dir, "short");
const filling = [createFsEventStore({ dir: long }), createFsEventStore({ dir: short })];
await fill(filling[0], "fleet", LONG, { loops: 1000 });
await fill(filling[1], "fleet", SHORT, { loops: 1000 });
for (const store of filling) await store.close();
// the first open of each folds the whole log and writes the snapshot the later ones start from
const firstLong = await openAndStatus(long);
await openAndStatus(short);

const plan = { runs: 11, warmup: 2 };
const value = await measure(async () => 1 / (await openAndStatus(long)), plan);
const baseline = await measure(async () => 1 / (await openAndStatus(short)), plan);
await remove(dir);
report({
  value,
  unit: "opens/s",
  baseline,
  notes: `first open of the 1M-event log (full fold, writes the snapshot): ${firstLong.toFixed(1)} s`,
});
