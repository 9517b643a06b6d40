// Verified replay from the fs (or S3) store into fleet status, beside a loop that only parses and
// hashes the same lines. Usage: replay.mjs <events> [fs|s3]
import { hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fleetStatus, replay } from "@opsledger/core";
import { sealedLineHash } from "@opsledger/core/store";
import { createFsEventStore } from "@opsledger/store-fs";
import { fill, measure, peakRssMb, remove, report, resetPeakRss, tempDir } from "../lib.mjs";

const events = Number(process.argv[2]);
const backend = process.argv[3] ?? "fs";
const dir = await tempDir("replay");
const fs = createFsEventStore({ dir });
await fill(fs, "fleet", events, { loops: 1000 });

let store = fs;
let s3;
if (backend === "s3") {
  const { spawn } = await import("node:child_process");
  const { s3rverClient } = await import("../../tests/s3/s3rver-harness.mjs");
  const { createS3EventStore } = await import("@opsledger/store-s3");
  // the server runs in its own process, as a real endpoint would
  const server = spawn(process.execPath, ["--openssl-legacy-provider", new URL("../s3rver-process.mjs", import.meta.url).pathname], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const { endpoint, bucket } = await new Promise((resolve) => server.stdout.once("data", (chunk) => resolve(JSON.parse(String(chunk)))));
  const client = s3rverClient(endpoint);
  s3 = {
    stop: async () => {
      client.destroy();
      server.stdin.end();
      await new Promise((resolve) => server.once("exit", resolve));
    },
  };
  const writer = createS3EventStore({ client, bucket, prefix: "bench" });
  // batches of 100 records per object, as a ledger appending decisions in groups would leave them;
  // the writer compacts them into segment objects behind it (default options)
  let head = 0;
  let batch = [];
  for await (const record of fs.read("fleet")) {
    batch.push({ seq: record.seq, hash: sealedLineHash(record.line), line: record.line });
    if (batch.length === 100) {
      await writer.append({ streamId: "fleet", expectedSeq: head, records: batch });
      head += batch.length;
      batch = [];
    }
  }
  if (batch.length) await writer.append({ streamId: "fleet", expectedSeq: head, records: batch });
  await writer.close(); // waits for its last compaction
  // the replay is another reader's, with a store of its own
  store = createS3EventStore({ client, bucket, prefix: "bench", readConcurrency: Number(process.env["S3_READ_CONCURRENCY"] ?? 32) });
}

// the peak RSS is the replay's own: the log was written above, by this same process
resetPeakRss();
// the 1M-event row runs once without warm-up, to stay inside the bench's time budget
const plan = events >= 1_000_000 ? { runs: 1, warmup: false } : { runs: 3 };
const replayRate = await measure(async () => {
  const started = performance.now();
  const state = await replay(store, "fleet");
  fleetStatus(state, new Date("2026-03-02T00:00:00Z"));
  if (state.seq !== events) throw new Error(`replayed ${state.seq} of ${events}`);
  return events / ((performance.now() - started) / 1000);
}, plan);
const rss = peakRssMb();

// the physical limit: JSON.parse and SHA-256 of the same lines, nothing else
const baseline = await measure(async () => {
  const started = performance.now();
  let n = 0;
  const names = (await readdir(join(dir, "fleet"))).filter((name) => name.endsWith(".ndjson")).sort();
  for (const name of names) {
    for await (const line of lines(join(dir, "fleet", name))) {
      JSON.parse(line);
      hash("sha256", line.slice(84, -1), "hex");
      n++;
    }
  }
  return n / ((performance.now() - started) / 1000);
}, plan);

let fsRate;
if (backend === "s3") {
  fsRate = await measure(async () => {
    const started = performance.now();
    await replay(fs, "fleet");
    return events / ((performance.now() - started) / 1000);
  });
  await s3.stop();
}
await fs.close();
await remove(dir);
report({ value: replayRate, unit: "events/s", baseline: backend === "s3" ? fsRate : baseline, peakRssMb: rss });

// lines of a file in 1 MiB chunks, the way the store reads segments
async function* lines(path) {
  let carry = "";
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    const parts = (carry + chunk).split("\n");
    carry = parts.pop();
    yield* parts;
  }
}
