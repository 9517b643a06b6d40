// The fs store's cost does not grow with history. Usage: fs-flat.mjs latency|bigline
// latency: one durable append at 1k events vs at 300k events (head and tail checks read a bounded
//          amount at the end of the last segment, whatever its size); value is the ratio's numerator.
// bigline: reading one 64 MiB record through the store vs readFileSync of the same file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GENESIS_HASH, seal } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";
import { measure, remove, report, tempDir } from "../lib.mjs";

const mode = process.argv[2];
const dir = await tempDir(`fs-flat-${mode}`);

function records(from, count, prevHash, pad = 200) {
  const out = [];
  for (let seq = from; seq < from + count; seq++) {
    const record = seal({
      v: 1,
      ledger: "s",
      seq,
      id: `r-${seq}`,
      type: "BenchProbe",
      at: "2026-03-01T00:00:00.000Z",
      data: { seq, pad: "x".repeat(pad) },
      prevHash,
    });
    out.push(record);
    prevHash = record.hash;
  }
  return out;
}

async function logOf(name, count) {
  const store = createFsEventStore({ dir: join(dir, name) });
  let head = { seq: 0, hash: GENESIS_HASH };
  while (head.seq < count) {
    const batch = records(head.seq + 1, Math.min(5000, count - head.seq), head.hash);
    head = await store.append({ streamId: "s", expectedSeq: head.seq, records: batch });
  }
  return { store, head };
}

// appends per second, one event per call, on a log of `count` events (a fresh store each run, as a restarted process)
async function appendRate(name, count) {
  const { store } = await logOf(name, count);
  await store.close();
  return async () => {
    const fresh = createFsEventStore({ dir: join(dir, name) });
    let head = await fresh.head("s");
    const n = 200;
    const started = performance.now();
    for (let i = 0; i < n; i++)
      head = await fresh.append({ streamId: "s", expectedSeq: head.seq, records: records(head.seq + 1, 1, head.hash) });
    const rate = n / ((performance.now() - started) / 1000);
    await fresh.close();
    return rate;
  };
}

let result;
if (mode === "latency") {
  const small = await appendRate("small", 1000);
  const large = await appendRate("large", 300_000);
  const atLarge = await measure(large, { runs: 3 });
  const atSmall = await measure(small, { runs: 3 });
  result = { value: atLarge, unit: "appends/s", baseline: atSmall };
} else {
  const store = createFsEventStore({ dir, segmentBytes: 256 * 1024 * 1024 });
  const [big] = records(1, 1, GENESIS_HASH, 64 * 1024 * 1024);
  await store.append({ streamId: "s", expectedSeq: 0, records: [big] });
  const file = join(dir, "s", "00000000000000000001.ndjson");
  const ours = await measure(async () => {
    const started = performance.now();
    for await (const record of store.read("s")) if (record.line.length < 1) throw new Error("empty");
    return 64 / ((performance.now() - started) / 1000);
  });
  const baseline = await measure(async () => {
    const started = performance.now();
    if (readFileSync(file, "utf8").length < 1) throw new Error("empty");
    return 64 / ((performance.now() - started) / 1000);
  });
  await store.close();
  result = { value: ours, unit: "MiB/s", baseline };
}
await remove(dir);
report(result);
