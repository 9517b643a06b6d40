import { spawn } from "node:child_process";
import { appendFile, mkdtemp, readdir, rm, stat, truncate } from "node:fs/promises";
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

// the end of the last segment as a cut write leaves it: part of a record, or a record without its newline
async function plantTornTail(dir: string, kill: number): Promise<void> {
  const streamDir = join(dir, "crash");
  const segments = (await readdir(streamDir)).filter((name) => name.endsWith(".ndjson")).sort();
  const last = join(streamDir, segments[segments.length - 1] as string);
  if (kill % 2 === 0) {
    await appendFile(last, `{"hash":"${"ab".repeat(kill % 30)}","record":{"v":1,"ledger":"crash","seq`);
  } else {
    const { size } = await stat(last);
    await truncate(last, size - 1); // the record stays whole: only its newline is gone
  }
}

describe("fs store under kill -9", () => {
  it(`keeps every acknowledged append and a valid chain across ${KILLS} SIGKILLs of a writer`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-crash-"));
    dirs.push(dir);
    let lastAck = 0;
    let recovered = 0;
    let planted = 0;
    let awaitingRepair = false;
    for (let kill = 1; kill <= KILLS; kill++) {
      const result = await crashOnce(dir, kill, 1 + ((kill * 7919) % 40));
      lastAck = Math.max(lastAck, result.lastAck);
      recovered += result.recovered;
      // a planted cut write is repaired, and reported, before the next writer's first acknowledgement
      if (awaitingRepair) expect(result.recovered, `kill ${kill}: the planted cut write was not reported`).toBeGreaterThanOrEqual(1);
      awaitingRepair = false;
      // SIGKILL keeps the page cache, so a write is never cut short here by itself: every third
      // kill, cut one as a power loss or a full disk would (a partial record at the end, or a
      // record without its newline), for the next writer to repair and report
      if (kill % 3 === 0 && kill < KILLS) {
        await plantTornTail(dir, kill);
        planted++;
        awaitingRepair = true;
      }
      const store = createFsEventStore({ dir, segmentBytes: 8 * 1024 });
      const head = await store.head("crash");
      // every acknowledged append is there; at most the unacknowledged tail is missing
      expect(head?.seq ?? 0).toBeGreaterThanOrEqual(lastAck);
      const report = await verifyLog(store, "crash");
      expect(report.breaks).toEqual([]);
      expect(report.count).toBe(head?.seq);
      await store.close();
    }
    // every planted one was repaired and reported; a kill can leave one more itself (an empty new segment)
    expect(recovered).toBeGreaterThanOrEqual(planted);
    console.info(
      `crash campaign: ${KILLS} SIGKILLs, ${lastAck} acknowledged records, none lost, chain verified after every restart, ${planted} cut writes planted, ${recovered} repairs reported (each planted one among them)`,
    );
  }, 600_000);
});
