// The example service under 200 parallel requests: every POST /observe is answered 200 (none
// fails because of another request on the same ledger), and the log holds exactly what they did.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyLog } from "@opsledger/core";
import { countEventTypes, fleetStateDocument } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { expect, it } from "vitest";

const main = new URL("../dist/main.js", import.meta.url).pathname;

it("answers 200 parallel POST /observe and GET /status requests without a single failure", async () => {
  const dir = await mkdtemp(join(tmpdir(), "opsledger-service-test-"));
  const service = spawn(process.execPath, [main], {
    env: { ...process.env, OPSLEDGER_DIR: dir, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = "";
      service.stdout.on("data", (chunk) => {
        out += chunk;
        const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) resolve(match[1] as string);
      });
      service.on("exit", (code) => reject(new Error(`service exited ${code}`)));
    });
    const requests = Array.from({ length: 200 }, (_, i) =>
      i % 4 === 3
        ? fetch(`${base}/status`)
        : fetch(`${base}/observe`, {
            method: "POST",
            body: JSON.stringify(
              fleetStateDocument([{ loopId: "checkout", healthStatus: i % 2 ? "critical" : "healthy" }, { loopId: "search" }]),
            ),
          }),
    );
    const responses = await Promise.all(requests);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(
      responses.map((r) => r.status).filter((s) => s !== 200),
      bodies.find((b) => b.includes("error")),
    ).toEqual([]);
    service.kill();
    const store = createFsEventStore({ dir });
    const report = await verifyLog(store, "default");
    expect(report.breaks).toEqual([]);
    const counts = await countEventTypes(store, "default");
    // 150 POSTs: each one observation, one evaluation and one dispatch request
    expect(counts).toMatchObject({ FleetObserved: 150, PolicyEvaluated: 150, DispatchRequested: 150 });
    await store.close();
  } finally {
    service.kill();
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);
