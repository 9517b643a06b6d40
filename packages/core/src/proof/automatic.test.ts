import { describe, expect, it } from "vitest";
import { verifyLog } from "../chain/verify.ts";
import { openLedger } from "../ledger/ledger.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, sequentialIds } from "../testing/clock.ts";
import { proveRecord, verifyBundle } from "./bundle.ts";
import { readCheckpointNote } from "./checkpoint.ts";
import { parseSignerKey, signingKeyFromSeed } from "./note.ts";

const KEY = signingKeyFromSeed("opsledger/default", new Uint8Array(32).fill(1));
const who = { actor: "alice", rationale: "exercise", approvalRef: "CHG-1" };

describe("automatic checkpoints", () => {
  it("signs one at every multiple of everyRecords, each verifying against the log it names", async () => {
    const store = createMemoryEventStore();
    const published: string[] = [];
    const clock = fixedClock("2026-03-01T09:00:00Z", 1000);
    const ledger = await openLedger({
      store,
      clock,
      ids: sequentialIds(),
      checkpoints: { signers: [parseSignerKey(KEY.signerKey)], everyRecords: 4, publish: async (note) => void published.push(note) },
    });
    await ledger.init();
    for (let i = 0; i < 5; i++) {
      await ledger.engageKillSwitch(who);
      await ledger.releaseKillSwitch(who);
    }
    expect(ledger.head()?.seq).toBe(11);
    expect(published.map((note) => readCheckpointNote(note)?.size)).toEqual([4, 8]);
    const report = await verifyLog(store, "default", { checkpoints: published, verifierKeys: [KEY.verifierKey] });
    expect(report.anchors).toEqual([
      { kind: "checkpoint", size: 4, consistent: true },
      { kind: "checkpoint", size: 8, consistent: true },
    ]);
    // what a ledger signed proves a record to an auditor with no store
    const bundle = await proveRecord(store, "default", 3, {
      checkpoint: published[1] as string,
      older: published[0] as string,
      verifierKeys: [KEY.verifierKey],
    });
    expect(verifyBundle(JSON.parse(JSON.stringify(bundle)), { verifierKeys: [KEY.verifierKey] })).toMatchObject({ ok: true, seq: 3 });

    // a ledger opened later on the same log carries on at the next boundary, not at its head
    const later = await openLedger({
      store,
      clock,
      ids: sequentialIds("later"),
      checkpoints: { signers: [parseSignerKey(KEY.signerKey)], everyRecords: 4, publish: async (note) => void published.push(note) },
    });
    expect(published).toHaveLength(2);
    await later.engageKillSwitch(who);
    expect(readCheckpointNote(published[2] as string)?.size).toBe(12);
  });

  it("never fails a command for a failed publish, and publishes at the next append that is due", async () => {
    const store = createMemoryEventStore();
    const published: number[] = [];
    const errors: unknown[] = [];
    let down = true;
    const clock = fixedClock("2026-03-01T09:00:00Z");
    const ledger = await openLedger({
      store,
      clock,
      ids: sequentialIds(),
      checkpoints: {
        signers: [parseSignerKey(KEY.signerKey)],
        everyRecords: 1_000_000,
        everyMs: 3_000,
        publish: async (note) => {
          if (down) throw new Error("checkpoint bucket unavailable");
          published.push(readCheckpointNote(note)?.size as number);
        },
        onError: (error) => errors.push(error),
      },
    });
    await ledger.init();
    await ledger.engageKillSwitch(who);
    clock.advance(5_000);
    await ledger.releaseKillSwitch(who);
    expect(errors).toHaveLength(1);
    expect(ledger.head()?.seq).toBe(3);
    down = false;
    await ledger.engageKillSwitch(who);
    expect(published).toEqual([4]);
  });
});
