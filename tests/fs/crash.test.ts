import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyLog } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";
import { afterAll, describe, expect, it } from "vitest";

const here = new URL(".", import.meta.url).pathname;
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// the full campaign with OPSLEDGER_CRASH_KILLS=200 (or more); a lighter one by default
const KILLS = Number(process.env["OPSLEDGER_CRASH_KILLS"] ?? 60);

/** Starts the writer, kills it with SIGKILL after a random number of acknowledgements, returns the last ack. */
function crashOnce(dir: string, seed: number, killAfterAcks: number): Promise<{ lastAck: number; recovered: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, "crash-writer.mjs"), dir, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
    let lastAck = 0;
    let acks = 0;
    let recovered = 0;
    let buffered = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("recovered ")) recovered++;
        if (!line.startsWith("ack ")) continue;
        lastAck = Number(line.slice(4));
        if (++acks === killAfterAcks) child.kill("SIGKILL");
      }
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve({ lastAck, recovered });
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

describe("fs store under kill -9", () => {
  it(`keeps every acknowledged append and a valid chain across ${KILLS} SIGKILLs of a writer`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-crash-"));
    dirs.push(dir);
    let lastAck = 0;
    let recovered = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const result = await crashOnce(dir, kill, 1 + ((kill * 7919) % 40));
      lastAck = Math.max(lastAck, result.lastAck);
      recovered += result.recovered;
      const store = createFsEventStore({ dir, segmentBytes: 8 * 1024 });
      const head = await store.head("crash");
      // every acknowledged append is there; at most the unacknowledged tail is missing
      expect(head?.seq ?? 0).toBeGreaterThanOrEqual(lastAck);
      const report = await verifyLog(store, "crash");
      expect(report.breaks).toEqual([]);
      expect(report.count).toBe(head?.seq);
      await store.close();
    }
    console.info(
      `crash campaign: ${KILLS} SIGKILLs, ${lastAck} acknowledged records, none lost, chain verified after every restart, ${recovered} torn tails repaired`,
    );
  }, 600_000);
});
