// A remediation service that embeds opsledger: POST /observe takes a fleet state v1 (the output of
// your reconcile), evaluates it and runs autonomy; GET /status serves the superloop-compatible
// status document. `--once` starts it on a free port, drives one cycle and exits (what CI runs).

import { mkdtemp } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Dispatcher, openLedger } from "@opsledger/core";
import { fleetStateDocument } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";

const dir = process.env["OPSLEDGER_DIR"] ?? (await mkdtemp(join(tmpdir(), "opsledger-service-")));
const store = createFsEventStore({ dir });
const ledger = await openLedger({ store, fleetId: "default" });

// your side effect: cancel a run through your own API; here it only says so
const cancelRun: Dispatcher = async (intent, { idempotencyKey }) => {
  console.log(`cancel ${intent.loopId} (key ${idempotencyKey})`);
  return { status: "confirmed" };
};

await ledger.applyRegistry({
  schemaVersion: "v1",
  loops: [{ loopId: "checkout" }, { loopId: "search" }],
  policy: {
    mode: "guarded_auto",
    noiseControls: { dedupeWindowSeconds: 0 },
    autonomous: {
      governance: {
        actor: "platform-team",
        approvalRef: "CAB-1",
        rationale: "example service",
        changedAt: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, "Z"),
        reviewBy: new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z"),
      },
    },
  },
});

async function body(request: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of request) text += chunk;
  return JSON.parse(text);
}

function send(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(value)}\n`);
}

const server = createServer(async (request, response) => {
  try {
    if (request.method === "GET" && request.url === "/status") return send(response, 200, await ledger.status());
    if (request.method === "POST" && request.url === "/observe") {
      const observed = await ledger.observe(await body(request));
      if (!observed.ok) return send(response, 400, observed);
      const evaluation = await ledger.evaluate();
      const batch = await ledger.dispatch({ mode: "autonomous", dispatcher: cancelRun, by: "example-service" });
      return send(response, 200, { evaluated: evaluation.candidateCount, dispatched: batch.ok ? batch.requestedIntentCount : 0 });
    }
    send(response, 404, { error: "GET /status or POST /observe" });
  } catch (error) {
    send(response, 500, { error: (error as Error).message });
  }
});

server.listen(Number(process.env["PORT"] ?? 0), "127.0.0.1", async () => {
  const { port } = server.address() as AddressInfo;
  console.log(`opsledger example service on http://127.0.0.1:${port} (log in ${dir})`);
  if (!process.argv.includes("--once")) return;
  const base = `http://127.0.0.1:${port}`;
  const state = fleetStateDocument([{ loopId: "checkout", healthStatus: "critical" }, { loopId: "search" }]);
  const cycle = await (await fetch(`${base}/observe`, { method: "POST", body: JSON.stringify(state) })).json();
  console.log("POST /observe →", JSON.stringify(cycle));
  const status = (await (await fetch(`${base}/status`)).json()) as { autonomous: { outcomeRollup: unknown } };
  console.log("GET /status → autonomous.outcomeRollup", JSON.stringify(status.autonomous.outcomeRollup));
  server.close();
  await store.close();
});
