import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLedger } from "@opsledger/core";
import { createFsEventStore } from "@opsledger/store-fs";
import { afterAll, describe, expect, it } from "vitest";

const here = new URL(".", import.meta.url).pathname;
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("a controller killed mid-dispatch", () => {
  it("leaves the intent in flight (ambiguous until resolved), never pending or executed, and autonomy does not redo it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-dispatch-crash-"));
    dirs.push(dir);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [join(here, "dispatch-crash-writer.mjs"), dir], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (c) => {
        err += c;
      });
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("dispatching")) child.kill("SIGKILL");
      });
      child.on("exit", (_code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`controller exited on its own: ${err}`))));
    });
    const store = createFsEventStore({ dir });
    const ledger = await openLedger({ store, fleetId: "default" });
    expect((await ledger.verify()).ok).toBe(true);
    const intent = (await ledger.plan()).intents[0];
    expect(intent).toMatchObject({
      intentId: "loop-red:health_critical:cancel",
      status: "in_flight",
      lastOutcome: { status: "in_flight" },
    });
    expect(intent?.autonomous.reasons).toEqual(["autonomous_retry_guard_ambiguous", "dispatch_in_flight"]);
    const batch = await ledger.dispatch({ mode: "autonomous", dispatcher: async () => ({ status: "confirmed" }) });
    expect(batch.ok && batch.requestedIntentCount).toBe(0);
    expect((await ledger.status()).autonomous?.inFlightCount).toBe(1);
    await store.close();
  }, 60_000);
});
