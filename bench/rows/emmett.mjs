// Emmett's durable stores on the peer workload: 200k events of ~340 B over 1k streams with
// expected-version checks. Usage: emmett.mjs sqlite|postgresql single|probe|batch|read
// SQLite: a file database with one shared connection. PostgreSQL: the server bench/postgres.mjs
// started (its connection string in OPSLEDGER_BENCH_POSTGRES), a fresh database per store, the
// store as Emmett's docs make it (getPostgreSQLEventStore(connectionString): pooled).
import { join } from "node:path";
import { measure, PEER_STREAMS, peerPayload, remove, report, tempDir } from "../lib.mjs";

const peers = new URL("../peers/node_modules/", import.meta.url).pathname;
const [engine, mode] = process.argv.slice(2);
const STREAMS = PEER_STREAMS;
let round = 0;
// the rate of the run in progress, reported if the peer crashes mid-run (sqlite3 raises some
// errors as unhandled 'error' events, which no await can catch)
const progress = { done: 0, started: 0 };
if (mode !== "probe") {
  process.on("uncaughtException", (error) => {
    const rate = progress.started ? progress.done / ((performance.now() - progress.started) / 1000) : null;
    report({ value: rate, unit: "events/s", notes: `peer crashed after ${progress.done} events: ${String(error.message).split("\n")[0]}` });
    process.exit(0);
  });
}
const dir = await tempDir("emmett");
const notes = [];

// SQLite: one shared connection, passed in. What was wrong before: `connectionOptions: { singleton: true }`
// alone shares nothing for a file database (emmett-sqlite 0.42 keeps a singleton only for an
// in-memory one or a connection it is given), so every operation opened its own sqlite3
// connection, fired `PRAGMA journal_mode = WAL` on it without waiting and closed it without
// waiting: now and then that pragma was still running when the append's COMMIT came, and
// sqlite3 failed it with SQLITE_BUSY "cannot commit transaction - SQL statements in progress".
async function withSQLiteStore(fn) {
  const { getSQLiteEventStore, sqliteConnection } = await import(join(peers, "@event-driven-io/emmett-sqlite/dist/index.js"));
  const fileName = join(dir, `db-${round++}.sqlite`);
  const connection = sqliteConnection({ fileName });
  const store = getSQLiteEventStore({
    fileName,
    schema: { autoMigration: "CreateOrUpdate" },
    connectionOptions: { singleton: true, connection },
  });
  try {
    await connection.query("PRAGMA journal_mode"); // the connection's own WAL pragma has run
    await store.readStream("warm-up"); // runs the schema migration before the clock starts
    return await fn(store);
  } finally {
    await store.close?.();
    await connection.close();
  }
}

async function withPostgreSQLStore(fn) {
  const server = process.env["OPSLEDGER_BENCH_POSTGRES"];
  if (!server) throw new Error("OPSLEDGER_BENCH_POSTGRES is not set: run this row through pnpm bench, which starts the server");
  const { getPostgreSQLEventStore } = await import(join(peers, "@event-driven-io/emmett-postgresql/dist/index.js"));
  const { default: pg } = await import(join(peers, "pg/lib/index.js"));
  const database = `bench_${process.pid}_${round++}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const store = getPostgreSQLEventStore(server.replace(/\/postgres$/, `/${database}`));
  try {
    await store.readStream("warm-up"); // runs the schema migration before the clock starts
    return await fn(store);
  } finally {
    await store.close();
  }
}

const withStore = engine === "postgresql" ? withPostgreSQLStore : withSQLiteStore;

async function appendAll(store, events, perCall, capMs = Number.POSITIVE_INFINITY) {
  const versions = new Array(STREAMS).fill(0n);
  const started = performance.now();
  let done = 0;
  progress.started = started;
  progress.done = 0;
  for (let i = 0; i < events && performance.now() - started < capMs; i += perCall) {
    const s = (i / perCall) % STREAMS;
    const batch = Array.from({ length: perCall }, (_, k) => ({ type: "BenchEvent", data: peerPayload(i + k) }));
    const result = await store.appendToStream(`s${s}`, batch, { expectedStreamVersion: versions[s] });
    versions[s] = result.nextExpectedStreamVersion;
    done += perCall;
    progress.done = done;
  }
  return done / ((performance.now() - started) / 1000);
}

let result;
if (mode === "single") {
  // one event per call, capped at 10 s a run: each append is its own transaction
  result = {
    value: await measure(() => withStore((store) => appendAll(store, 200_000, 1, 10_000)), { runs: 1 }),
    unit: "events/s",
    notes: "time-capped at 10 s",
  };
} else if (mode === "probe") {
  // does a stream stay usable after an append rejected for its expected version? (sqlite3 reports
  // the wedged transaction as an unhandled 'error' event, so it is caught at the process level)
  const stuck = (message) => {
    report({ value: null, unit: "", notes: `after a rejected expected-version append the store is stuck (${message.split("\n")[0]})` });
    process.exit(0);
  };
  process.on("uncaughtException", (error) => stuck(error.message));
  await withStore(async (store) => {
    await store.appendToStream("probe", [{ type: "BenchEvent", data: {} }], { expectedStreamVersion: 0n });
    await store.appendToStream("probe", [{ type: "BenchEvent", data: {} }], { expectedStreamVersion: 0n }).catch(() => undefined);
    await store
      .appendToStream("probe", [{ type: "BenchEvent", data: {} }], { expectedStreamVersion: 1n })
      .catch((error) => stuck(error.message));
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  result = { value: null, unit: "", notes: "" };
} else if (mode === "batch") {
  result = {
    value: await measure(() => withStore((store) => appendAll(store, 200_000, 100)), { runs: 1, warmup: false }),
    unit: "events/s",
  };
} else {
  const value = await withStore(async (store) => {
    await appendAll(store, 200_000, 100);
    return measure(
      async () => {
        const started = performance.now();
        let folded = 0;
        for (let s = 0; s < STREAMS; s++) {
          const { events } = await store.readStream(`s${s}`);
          for (const event of events) folded += event.data.healthStatus === "critical" ? 1 : 0;
        }
        if (folded === 0) throw new Error("the fold saw no events");
        return 200_000 / ((performance.now() - started) / 1000);
      },
      { runs: 3 },
    );
  });
  result = { value, unit: "events/s", notes: "read all 1k streams and fold" };
}
await remove(dir);
report({ ...result, ...(notes.length ? { notes: notes.join("; ") } : {}) });
