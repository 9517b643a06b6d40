// Compaction against a real S3 server (s3rver over HTTP), with the store's default options: whole
// batches are copied into segment objects behind the head, and readers fetch those instead of the
// batches, getting exactly the same records.
import { randomUUID } from "node:crypto";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isOpsledgerError, replay, verifyLog } from "@opsledger/core";
import { seqName } from "@opsledger/core/store";
import { makeRecords } from "@opsledger/store-contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3rverHarness, startS3rver } from "../../../tests/s3/s3rver-harness.mjs";
import { createS3EventStore, type S3EventStore } from "../src/index.ts";

let s3: S3rverHarness;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

const RECORDS = 25_000; // two segments of the default 10,000 records, and a tail of batches
const BATCH = 100;
const log = makeRecords("s", RECORDS, { payload: (seq) => ({ seq, pad: "p".repeat(60) }) });

// a client that counts the objects it fetches (a real client: the count is of real GETs)
function countingClient(): { client: S3Client; gets: () => number } {
  const client = s3.client();
  let gets = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "GetObjectCommand") gets++;
      return next(args);
    },
    { step: "initialize", name: "countGets" },
  );
  return { client, gets: () => gets };
}

async function appendAll(stores: readonly S3EventStore[], records: readonly (typeof log)[0][] = log) {
  for (let at = 0; at < records.length; at += BATCH) {
    const store = stores[(at / BATCH) % stores.length] as S3EventStore;
    const batch = records.slice(at, at + BATCH) as [(typeof records)[0], ...typeof records];
    await store.append({ streamId: "s", expectedSeq: at, records: batch });
  }
  // close waits for a compaction under way
  await Promise.all(stores.map((store) => store.close()));
}

async function segmentKeys(prefix: string): Promise<string[]> {
  const page = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/.opsledger-segments/s/` }));
  return (page.Contents ?? []).map((object) => (object.Key ?? "").slice(`${prefix}/.opsledger-segments/s/`.length));
}

const bodyOf = async (key: string) =>
  (await (await s3.client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body?.transformToString()) ?? "";
// a write by someone who can write the bucket: no condition
const put = (key: string, body: string) => s3.client().send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));

async function readAll(store: S3EventStore, fromSeq = 1) {
  const records: { seq: number; line: string }[] = [];
  for await (const record of store.read("s", { fromSeq })) records.push({ seq: record.seq, line: record.line });
  return records;
}
const expected = (fromSeq = 1) => log.slice(fromSeq - 1).map((r) => ({ seq: r.seq, line: r.line }));

describe("s3 store compaction", () => {
  const prefix = `c-${randomUUID()}`;
  beforeAll(async () => {
    await appendAll([createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix })]);
  }, 300_000);

  it("copies whole batches into segment objects of 10,000 records as one writer appends", async () => {
    expect(await segmentKeys(prefix)).toEqual([
      "00000000000000000001-00000000000000010000.ndjson",
      "00000000000000010001-00000000000000020000.ndjson",
    ]);
  });

  it("reads the same records from the segments and the tail's batches, with one GET per segment", async () => {
    const { client, gets } = countingClient();
    const store = createS3EventStore({ client, bucket: s3.bucket, prefix });
    expect(await readAll(store)).toEqual(expected());
    // two segments and the 50 batches of the last 5,000 records, instead of 250 batches
    expect(gets()).toBe(2 + 50);
    const report = await verifyLog(store, "s");
    expect(report).toMatchObject({ ok: true, count: RECORDS });
  });

  it("reads from inside a segment exactly what a full read yields from there", async () => {
    const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix });
    for (const fromSeq of [2, 9_999, 10_001, 12_345, 20_001, 24_999])
      expect(await readAll(store, fromSeq), String(fromSeq)).toEqual(expected(fromSeq));
  });

  it("reads the batches of a segment deleted after it was listed (segments are a cache)", async () => {
    const other = `c-${randomUUID()}`;
    await appendAll([createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: other })], log.slice(0, 12_000));
    const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: other });
    expect(await readAll(store)).toEqual(expected().slice(0, 12_000)); // lists and caches the segment
    const [segment] = await segmentKeys(other);
    await s3.client().send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${other}/.opsledger-segments/s/${segment}` }));
    expect(await readAll(store)).toEqual(expected().slice(0, 12_000));
  }, 300_000);

  it("compacts what two writers appended in turns, fetching the rival's batches", async () => {
    const shared = `c-${randomUUID()}`;
    const writers = [0, 1].map(() => createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: shared }));
    await appendAll(writers, log.slice(0, 12_000));
    expect(await segmentKeys(shared)).toEqual(["00000000000000000001-00000000000000010000.ndjson"]);
    const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: shared });
    expect(await readAll(store)).toEqual(expected().slice(0, 12_000));
  }, 300_000);

  it("verifies the batches themselves: an edit to a batch that a segment covers is seen", async () => {
    const edited = `c-${randomUUID()}`;
    await appendAll([createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: edited })], log.slice(0, 11_000));
    expect(await segmentKeys(edited)).toHaveLength(1);
    const key = `${edited}/s/${seqName(401, ".ndjson")}`;
    const lines = (await bodyOf(key)).trimEnd().split("\n");
    lines.splice(50, 1); // seq 451 dropped from the batch the segment copied
    await put(key, `${lines.join("\n")}\n`);
    const report = await verifyLog(createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: edited }), "s");
    expect(report.breaks[0]).toMatchObject({ seq: 451, kind: "gap" });
    expect(report.breaks[0]?.location).toContain(key);
  }, 300_000);

  it("never lets a forged segment pass: even re-sealed to the end, it does not link to the batch after it", async () => {
    const forged = `c-${randomUUID()}`;
    await appendAll([createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: forged })], log.slice(0, 11_000));
    const [segment] = await segmentKeys(forged);
    // a record changed and every record after it re-sealed, so the segment's own chain is intact
    const rewritten = makeRecords("s", 10_000 - 499, {
      after: { seq: 499, hash: (log[498] as (typeof log)[0]).hash },
      payload: (seq) => ({ seq, pad: "forged" }),
    });
    const body = [...log.slice(0, 499), ...rewritten].map((r) => r.line).join("\n");
    await put(`${forged}/.opsledger-segments/s/${segment}`, `${body}\n`);
    const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix: forged });
    const error = await replay(store, "s").catch((e: unknown) => e);
    expect(isOpsledgerError(error, "CHAIN_INTEGRITY")).toBe(true);
    expect((error as { seq?: number }).seq).toBe(10_001); // the first record of the log itself after the copy
  }, 300_000);
});
