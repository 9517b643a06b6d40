// Checkpoints and proofs. Usage: proof.mjs checkpoints | prove <events>
//   checkpoints: ledger commands on a memory store with automatic checkpoints every 1,000 records
//                (signed, written to a directory) against the same commands without, same run
//   prove:       one inclusion proof (proveRecord) for a seq in the middle of an fs log of <events>
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createCheckpoint, createMemoryEventStore, openLedger, parseSignerKey, proveRecord, signingKeyFromSeed } from "@opsledger/core";
import { fleetStateDocument } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { fill, measure, remove, report, tempDir } from "../lib.mjs";

const key = signingKeyFromSeed("opsledger/bench", new Uint8Array(32).fill(7));
const signer = parseSignerKey(key.signerKey);
const [mode, size] = process.argv.slice(2);

if (mode === "checkpoints") {
  const COMMANDS = 5_000;
  const dir = await tempDir("checkpoints");
  const document = (i) => fleetStateDocument([{ loopId: `loop-${i % 8}`, healthStatus: i % 3 ? "healthy" : "critical" }]);
  let published = 0;
  const run = async (withCheckpoints) => {
    const checkpoints = {
      signers: [signer],
      everyRecords: 1000,
      publish: async (note, { size: treeSize }) => {
        published++;
        await writeFile(join(dir, `bench-${treeSize}.checkpoint`), note);
      },
    };
    const ledger = await openLedger({ store: createMemoryEventStore(), fleetId: "bench", ...(withCheckpoints ? { checkpoints } : {}) });
    await ledger.init();
    const started = performance.now();
    for (let i = 0; i < COMMANDS; i++) await ledger.observe(document(i));
    return COMMANDS / ((performance.now() - started) / 1000);
  };
  const value = await measure(() => run(true), { runs: 5 });
  const baseline = await measure(() => run(false), { runs: 5 });
  await remove(dir);
  report({ value, unit: "commands/s", baseline, notes: `${published} checkpoints signed and written in all runs` });
} else if (mode === "prove") {
  const count = Number(size);
  const dir = await tempDir("prove");
  const store = createFsEventStore({ dir });
  await fill(store, "bench", count);
  const { note } = await createCheckpoint(store, "bench", [signer]);
  const seq = Math.floor(count / 2);
  let bundle;
  const seconds = await measure(async () => {
    const started = performance.now();
    bundle = await proveRecord(store, "bench", seq, { checkpoint: note, verifierKeys: [key.verifierKey] });
    return (performance.now() - started) / 1000;
  });
  await store.close();
  await remove(dir);
  report({
    value: seconds,
    unit: "s",
    notes: `reads and verifies all ${count.toLocaleString("en-US")} records and rehashes ~${(2 * count).toLocaleString("en-US")} tree nodes for one proof of ${bundle.inclusionProof.length} hashes`,
  });
} else throw new Error("usage: proof.mjs checkpoints | prove <events>");
