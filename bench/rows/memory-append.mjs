// In-memory appends, one event per call, 200k events of ~340 B over 1k streams with expected-version
// checks: opsledger's memory store (sealing and hashing each event) against Emmett's and Castore's
// in-memory stores (which neither copy nor hash). Usage: memory-append.mjs ours|emmett|castore
import { createMemoryEventStore, GENESIS_HASH, seal } from "@opsledger/core";
import { measure, PEER_STREAMS, peerPayload, report } from "../lib.mjs";

const EVENTS = 200_000;
const STREAMS = PEER_STREAMS;
const which = process.argv[2];
const AT = "2026-03-01T00:00:00.000Z";

async function ours() {
  const store = createMemoryEventStore();
  const heads = new Array(STREAMS).fill(null);
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const s = i % STREAMS;
    const head = heads[s];
    const seq = (head?.seq ?? 0) + 1;
    const record = seal({
      v: 1,
      ledger: `s${s}`,
      seq,
      id: `e${i}`,
      type: "BenchEvent",
      at: AT,
      data: peerPayload(i),
      prevHash: head?.hash ?? GENESIS_HASH,
    });
    heads[s] = await store.append({ streamId: `s${s}`, expectedSeq: seq - 1, records: [record] });
  }
  return EVENTS / ((performance.now() - started) / 1000);
}

async function emmett() {
  const { getInMemoryEventStore } = await import("../peers/node_modules/@event-driven-io/emmett/dist/index.js");
  const store = getInMemoryEventStore();
  const versions = new Array(STREAMS).fill(0n);
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const s = i % STREAMS;
    const result = await store.appendToStream(`s${s}`, [{ type: "BenchEvent", data: peerPayload(i) }], {
      expectedStreamVersion: versions[s],
    });
    versions[s] = result.nextExpectedStreamVersion;
  }
  return EVENTS / ((performance.now() - started) / 1000);
}

async function castore() {
  // Castore's ESM build uses extensionless imports Node cannot resolve: load its CommonJS build
  const { createRequire } = await import("node:module");
  const { InMemoryEventStorageAdapter } = createRequire(import.meta.url)("../peers/node_modules/@castore/event-storage-adapter-in-memory");
  const adapter = new InMemoryEventStorageAdapter();
  const versions = new Array(STREAMS).fill(0);
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const s = i % STREAMS;
    versions[s]++;
    await adapter.pushEvent(
      { aggregateId: `s${s}`, version: versions[s], type: "BenchEvent", timestamp: AT, payload: peerPayload(i) },
      { eventStoreId: "bench" },
    );
  }
  return EVENTS / ((performance.now() - started) / 1000);
}

const run = { ours, emmett, castore }[which];
report({ value: await measure(run), unit: "events/s" });
