// Shared helpers of the bench rows. Every row runs in its own child process (run.mjs), warms up,
// measures several runs and prints one JSON result on stdout.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GENESIS_HASH, seal } from "@opsledger/core";

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Runs `fn` to warm up (once, or `warmup` times: short runs need several for the JIT and the heap
 * to settle as in a long-running process), then `runs` times; returns the median of what it returns.
 */
export async function measure(fn, { runs = 3, warmup = true } = {}) {
  for (let i = 0; i < (warmup === true ? 1 : warmup === false ? 0 : warmup); i++) await fn(true);
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await fn(false));
  return median(results);
}

/** Peak resident set size of this process so far, in MB (Linux VmHWM). */
export function peakRssMb() {
  try {
    const line = readFileSync("/proc/self/status", "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmHWM:"));
    return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return process.memoryUsage().rss / 1024 / 1024;
  }
}

/** Resets the peak RSS (Linux: clear_refs 5), so a row measures its own work, not its setup. */
export function resetPeakRss() {
  globalThis.gc?.();
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // not Linux: the peak then includes the setup
  }
}

export async function tempDir(name) {
  return mkdtemp(join(tmpdir(), `opsledger-bench-${name}-`));
}
export const remove = (dir) => rm(dir, { recursive: true, force: true });

export const report = (result) => process.stdout.write(`${JSON.stringify(result)}\n`);

const AT = "2026-03-01T00:00:00.000Z";

/**
 * The fleet-shaped event of position `i` (≈ 350–450 bytes): mostly observations of two of
 * `loops` loops, plus dispatches of one intent and their outcomes, so a replay folds real state.
 */
export function fleetEvent(i, loops) {
  const a = `loop-${String(i % loops).padStart(5, "0")}`;
  const b = `loop-${String((i * 7 + 3) % loops).padStart(5, "0")}`;
  switch (i % 4) {
    case 2:
      return {
        type: "DispatchRequested",
        data: {
          batchId: `batch-${i}`,
          mode: "autonomous",
          by: "bench",
          evaluationSeq: 1,
          intents: [
            {
              intentId: `${a}:health_critical:cancel`,
              candidateId: `${a}:health_critical`,
              loopId: a,
              category: "health_critical",
              intent: "cancel",
              instance: 1,
              idempotencyKey: `fleet-handoff-t-i1-${a}-health_critical-cancel`,
              transport: "local",
              autonomousEligible: true,
            },
          ],
        },
      };
    case 3:
      return {
        type: "DispatchCompleted",
        data: {
          batchId: `batch-${i - 1}`,
          intentId: `${a}:health_critical:cancel`,
          instance: 1,
          status: "executed",
          reasonCode: "control_confirmed",
          confirmed: true,
          transport: null,
          durationMs: 12,
        },
      };
    default:
      return {
        type: "FleetObserved",
        data: {
          traceId: `trace-${i}`,
          status: "success",
          reasonCodes: i % 8 === 0 ? ["fleet_health_critical"] : [],
          loopCount: 2,
          successCount: 2,
          failedCount: 0,
          skippedCount: 0,
          results: [
            {
              loopId: a,
              status: "success",
              healthStatus: i % 8 === 0 ? "critical" : "healthy",
              healthReasonCodes: [],
              transport: "local",
              registered: true,
            },
            { loopId: b, status: "success", healthStatus: "healthy", healthReasonCodes: [], transport: "local", registered: true },
          ],
        },
      };
  }
}

/** `count` sealed, chained records of one stream, generated in batches (memory stays flat). */
export function* sealedRecords(streamId, count, { loops = 1000, batch = 1000 } = {}) {
  let prevHash = GENESIS_HASH;
  for (let start = 1; start <= count; start += batch) {
    const records = [];
    for (let seq = start; seq < Math.min(start + batch, count + 1); seq++) {
      const event = fleetEvent(seq, loops);
      const record = seal({ v: 1, ledger: streamId, seq, id: `e${seq}`, type: event.type, at: AT, data: event.data, prevHash });
      records.push(record);
      prevHash = record.hash;
    }
    yield records;
  }
}

/** Fills a store's stream with `count` fleet events. */
export async function fill(store, streamId, count, options) {
  let head = 0;
  for (const records of sealedRecords(streamId, count, options)) {
    await store.append({ streamId, expectedSeq: head, records });
    head += records.length;
  }
}

/** The peer workload: events of ≈ 340 B over 1k streams (the quality bars' peer figures). */
export const PEER_STREAMS = 1_000;
export const peerPayload = (i) => ({
  loopId: `loop-${i % PEER_STREAMS}`,
  status: "success",
  healthStatus: i % 9 ? "healthy" : "critical",
  traceId: `trace-${i}`,
  note: "x".repeat(180),
});
