import { randomUUID } from "node:crypto";
import { isOpsledgerError, openLedger, verifyLog } from "@opsledger/core";
import { fleetStateDocument } from "@opsledger/core/testing";
import { makeRecords } from "@opsledger/store-contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3rverHarness, startS3rver } from "../../../tests/s3/s3rver-harness.mjs";
import { createS3EventStore } from "../src/index.ts";

let s3: S3rverHarness;
let plain: S3rverHarness;
beforeAll(async () => {
  [s3, plain] = await Promise.all([startS3rver(), startS3rver({ enforceConditionalWrites: false })]);
});
afterAll(async () => {
  await Promise.all([s3?.stop(), plain?.stop()]);
});
const prefix = () => `t-${randomUUID()}`;

describe("conditional writes", () => {
  it("probes whether the bucket refuses a second If-None-Match write: enforced with the precondition middleware, not enforced by bare s3rver", async () => {
    expect(await createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: prefix() }).probeConditionalWrites()).toEqual({
      enforced: true,
    });
    expect(await createS3EventStore({ client: plain.client(), bucket: plain.bucket, prefix: prefix() }).probeConditionalWrites()).toEqual({
      enforced: false,
    });
  });

  it("refuses to write to a bucket that does not enforce conditional writes when asked to", async () => {
    const store = createS3EventStore({ client: plain.client(), bucket: plain.bucket, prefix: prefix(), requireConditionalWrites: true });
    const error = await store.append({ streamId: "s", expectedSeq: 0, records: makeRecords("s", 1) }).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "STORE_UNAVAILABLE")).toBe(true);
    expect(String((error as Error).message)).toContain("does not enforce conditional writes");
    expect(await store.head("s")).toBeUndefined();
  });

  it("turns a lost race for a key into STREAM_CONFLICT even when the loser's head was fresh", async () => {
    const p = prefix();
    const a = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: p });
    const b = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: p });
    const results = await Promise.allSettled([
      a.append({ streamId: "race", expectedSeq: 0, records: makeRecords("race", 2, { payload: () => "a" }) }),
      b.append({ streamId: "race", expectedSeq: 0, records: makeRecords("race", 3, { payload: () => "b" }) }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(isOpsledgerError(lost?.reason, "STREAM_CONFLICT")).toBe(true);
    expect((await verifyLog(a, "race")).ok).toBe(true);
  });
});

describe("s3 store", () => {
  it("ends with exactly the 1,000 acknowledged events of 4 writers (separate ledgers and clients) in one chain, no fork", async () => {
    const p = prefix();
    const writer = async (name: string) => {
      const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: p });
      const ledger = await openLedger({ store, fleetId: "shared" });
      for (let i = 0; i < 250; i++) {
        const started = performance.now();
        await ledger.observe(fleetStateDocument([{ loopId: "loop-a" }], { traceId: `${name}-${i}` }));
        worst = Math.max(worst, performance.now() - started);
      }
    };
    let worst = 0;
    await Promise.all(["w1", "w2", "w3", "w4"].map(writer));
    const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: p });
    const report = await verifyLog(store, "shared");
    expect(report.breaks).toEqual([]);
    expect(report.count).toBe(1001);
    const traces = new Set<string>();
    for await (const record of store.read("shared")) {
      const envelope = JSON.parse(record.line).record;
      if (envelope.type === "FleetObserved") traces.add(envelope.data.traceId);
    }
    expect(traces.size).toBe(1000);
    console.info(
      `s3 concurrency: 4 writers × 250 appends = ${traces.size} events, one chain, default options; slowest command ${Math.round(worst)} ms`,
    );
  }, 300_000);

  it("maps SDK errors to the port's errors and keeps the cause", async () => {
    const store = createS3EventStore({ client: s3.client(), bucket: "no-such-bucket", prefix: prefix() });
    const error = await store.head("s").catch((e: unknown) => e);
    expect(isOpsledgerError(error, "STORE_UNAVAILABLE")).toBe(true);
    expect((error as Error).cause).toBeDefined();
  });

  it("refuses prefixes that could inject key paths as invalid values (a typo, not an unavailable store)", () => {
    for (const bad of ["../x", "a/../b", "/abs", "a//b", "a\\b", "a b", "."]) {
      let error: unknown;
      try {
        createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: bad });
      } catch (e) {
        error = e;
      }
      expect(isOpsledgerError(error, "INVALID_VALUE"), bad).toBe(true);
      expect((error as Error).message, bad).toMatch(/invalid key prefix/);
    }
    expect(() => createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: "fleets/prod-1/" })).not.toThrow();
  });
});
