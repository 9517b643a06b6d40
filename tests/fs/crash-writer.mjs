// A writer for the crash campaign: appends sealed records to an fs store as fast as it can and
// reports each acknowledged append on stdout ("ack <seq>"), until it is killed.
import { GENESIS_HASH, seal } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";

const [dir, seed] = process.argv.slice(2);
// every repair is reported as it happens (the first append under the lock makes them)
const store = createFsEventStore({
  dir,
  segmentBytes: 8 * 1024,
  onRecovery: (event) => process.stdout.write(`recovered ${event.kind} ${event.segment} ${event.offset} ${event.truncatedBytes}\n`),
});
let head = await store.head("crash");
let n = Number(seed);
for (;;) {
  const size = (n++ % 4) + 1; // batches of 1–4 records
  const records = [];
  let prevHash = head?.hash ?? GENESIS_HASH;
  for (let i = 1; i <= size; i++) {
    const seq = (head?.seq ?? 0) + i;
    const record = seal({
      v: 1,
      ledger: "crash",
      seq,
      id: `w${seed}-${seq}`,
      type: "CrashProbe",
      at: new Date(0).toISOString(),
      data: { seq, pad: "x".repeat(n % 200) },
      prevHash,
    });
    records.push(record);
    prevHash = record.hash;
  }
  head = await store.append({ streamId: "crash", expectedSeq: head?.seq ?? 0, records });
  process.stdout.write(`ack ${head.seq}\n`);
}
