import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EventStore, openLedger, verifyLog } from "@opsledger/core";
import { fleetStateDocument } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { createS3EventStore } from "@opsledger/store-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3rverHarness, startS3rver } from "./s3rver-harness.mjs";

let s3: S3rverHarness;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});
const prefix = () => `t-${randomUUID()}`;

describe("the same log in every store", () => {
  it("holds the same bytes as the fs store: a log copied record by record to S3 and back verifies identically", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-copy-"));
    try {
      const fs = createFsEventStore({ dir, segmentBytes: 4096 });
      const ledger = await openLedger({ store: fs, fleetId: "fleet" });
      for (let i = 0; i < 40; i++)
        await ledger.observe(
          fleetStateDocument([{ loopId: "loop-é", healthStatus: i % 3 ? "healthy" : "critical" }], { traceId: `t-${i}` }),
        );
      const copy = async (from: EventStore, to: EventStore) => {
        let head = 0;
        for await (const record of from.read("fleet")) {
          const hash = JSON.parse(record.line).hash as string;
          await to.append({ streamId: "fleet", expectedSeq: head, records: [{ seq: record.seq, hash, line: record.line }] });
          head = record.seq;
        }
      };
      const s3store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: prefix() });
      await copy(fs, s3store);
      const back = createFsEventStore({ dir: join(dir, "back") });
      await copy(s3store, back);
      const reports = await Promise.all([fs, s3store, back].map((store) => verifyLog(store, "fleet")));
      expect(reports.map((r) => r.ok)).toEqual([true, true, true]);
      expect(reports[1]?.head).toEqual(reports[0]?.head);
      expect(reports[2]?.head).toEqual(reports[0]?.head);
      const lines = async (store: EventStore) => {
        const all: string[] = [];
        for await (const r of store.read("fleet")) all.push(r.line);
        return all;
      };
      expect(await lines(s3store)).toEqual(await lines(fs));
      expect(await lines(back)).toEqual(await lines(fs));
      await Promise.all([fs.close(), back.close()]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
