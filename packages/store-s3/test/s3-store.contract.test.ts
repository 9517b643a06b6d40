import { randomUUID } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { describeEventStoreContract } from "@opsledger/store-contract";
import { afterAll, beforeAll } from "vitest";
import { type S3rverHarness, startS3rver } from "../../../tests/s3/s3rver-harness.mjs";
import { createS3EventStore } from "../src/index.ts";

let s3: S3rverHarness;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

const prefixes = new WeakMap<object, string>();

// a small list page size, so reads and listings cross ListObjectsV2 page boundaries
describeEventStoreContract("s3 (s3rver over HTTP)", {
  create: async () => {
    const prefix = `t-${randomUUID()}`;
    const store = createS3EventStore({ client: s3.client(), bucket: s3.bucket, prefix, listPageSize: 7, readConcurrency: 4 });
    prefixes.set(store, prefix);
    return store;
  },
  tamper: async (store, streamId, seq, edit) => {
    const client = s3.client();
    const prefix = `${prefixes.get(store)}/${streamId}/`;
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    const keys = (listed.Contents ?? []).map((o) => o.Key as string).sort();
    const key = keys.filter((k) => Number(k.slice(prefix.length, prefix.length + 20)) <= seq).pop() as string;
    const first = Number(key.slice(prefix.length, prefix.length + 20));
    const body = await (await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body?.transformToString();
    const lines = (body ?? "").split("\n");
    lines[seq - first] = edit(lines[seq - first] as string);
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: lines.join("\n") }));
  },
});
