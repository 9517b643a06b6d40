// Durable appends to the fs store against raw write + fdatasync. Usage: append.mjs single|concurrent|batch
import { open } from "node:fs/promises";
import { join } from "node:path";
import { createFsEventStore } from "@opsledger/store-fs";
import { measure, remove, report, sealedRecords, tempDir } from "../lib.mjs";

const mode = process.argv[2];
const dir = await tempDir(`append-${mode}`);
let round = 0;

// pre-sealed records, so the rows measure the store, not sealing
const records = [];
for (const batch of sealedRecords("s", mode === "batch" ? 50_000 : 3_000, { batch: 1000 })) records.push(...batch);
const lines = records.map((r) => `${r.line}\n`);

async function ours(count, perCall, inFlight) {
  const store = createFsEventStore({ dir: join(dir, `store-${round++}`) });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      if (start >= count) return;
      next += perCall;
      const batch = records.slice(start, start + perCall);
      await store.append({ streamId: "s", expectedSeq: start, records: batch });
    }
  };
  // in-flight appends each build on the seq the previous one will leave: the group commit's case
  await Promise.all(Array.from({ length: inFlight }, worker));
  const rate = count / ((performance.now() - started) / 1000);
  await store.close();
  return rate;
}

async function raw(count, perSync) {
  const file = await open(join(dir, `raw-${round++}.ndjson`), "a");
  const started = performance.now();
  for (let i = 0; i < count; i += perSync) {
    await file.write(lines.slice(i, i + perSync).join(""));
    if (perSync < count) await file.datasync();
  }
  await file.datasync();
  const rate = count / ((performance.now() - started) / 1000);
  await file.close();
  return rate;
}

let result;
if (mode === "single") {
  const value = await measure(() => ours(1500, 1, 1));
  const baseline = await measure(() => raw(1500, 1));
  result = { value, unit: "events/s", baseline };
} else if (mode === "concurrent") {
  const value = await measure(() => ours(3000, 1, 64));
  const baseline = await measure(() => ours(1500, 1, 1));
  result = { value, unit: "events/s", baseline };
} else {
  const value = await measure(() => ours(50_000, 100, 1));
  const baseline = await measure(() => raw(50_000, 50_000));
  result = { value, unit: "events/s", baseline };
}
await remove(dir);
report(result);
