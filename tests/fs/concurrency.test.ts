import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyLog } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";
import { afterAll, describe, expect, it } from "vitest";
import { runNode } from "../run-node.ts";

const here = new URL(".", import.meta.url).pathname;
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const run = async (dir: string, name: string, count: number): Promise<{ name: string; appended: number; conflicts: number }> => {
  const { code, stdout, stderr } = await runNode(join(here, "ledger-writer.mjs"), [dir, name, String(count)]);
  if (code !== 0) throw new Error(`${name} exited ${code}: ${stderr}`);
  return JSON.parse(stdout);
};

describe("fs store with 4 writer processes", () => {
  it("ends with exactly the 2,000 acknowledged events in one valid chain; losers re-decide on fresh state", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-concurrency-"));
    dirs.push(dir);
    const results = await Promise.all(["w1", "w2", "w3", "w4"].map((name) => run(dir, name, 500)));
    const store = createFsEventStore({ dir });
    const report = await verifyLog(store, "shared");
    expect(report.breaks).toEqual([]);
    // 2,000 observations plus the LedgerCreated of whichever writer was first
    expect(report.count).toBe(2001);
    const traces = new Set<string>();
    for await (const record of store.read("shared")) {
      const envelope = JSON.parse(record.line).record;
      if (envelope.type === "FleetObserved") traces.add(envelope.data.traceId);
    }
    expect(traces.size).toBe(2000);
    const conflicts = results.reduce((sum, r) => sum + r.conflicts, 0);
    console.info(`fs concurrency: 4 processes × 500 appends = ${traces.size} events, one chain, ${conflicts} lost races re-decided`);
    await store.close();
  }, 300_000);
});
