#!/usr/bin/env node
// pnpm bench [--json]: every row of docs/quality bars, each measured in a fresh child process
// (median of several runs after a warm-up), beside the baseline measured in the same run.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { startPostgres } from "./postgres.mjs";

const here = dirname(new URL(import.meta.url).pathname);
const json = process.argv.includes("--json");
const log = (text) => process.stderr.write(`${text}\n`);

// the peers live outside the workspace install: installed here, on first use, from their own lockfile
const peersInstalled = ["emmett-sqlite", "emmett-postgresql"].every((peer) =>
  existsSync(join(here, "peers", "node_modules", "@event-driven-io", peer)),
);
if (!peersInstalled) {
  log("installing the peers (Emmett, Emmett SQLite with its native sqlite3 build, Emmett PostgreSQL, Castore) into bench/peers…");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: join(here, "peers"), stdio: ["ignore", "ignore", "inherit"] });
}

function row(script, ...args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--openssl-legacy-provider", "--expose-gc", join(here, "rows", script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...rowEnv },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      err += c;
    });
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      log(`  ${script} ${args.join(" ")}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      try {
        if (code !== 0) throw new Error();
        resolve(JSON.parse(line));
      } catch {
        // a row that fails is reported, never hidden
        resolve({
          value: null,
          unit: "",
          notes: `failed: ${(
            err
              .trim()
              .split("\n")
              .find((l) => /error/i.test(l)) ??
              err.trim().split("\n").pop() ??
              `exit ${code}`
          ).slice(0, 160)}`,
        });
      }
    });
  });
}

const rowEnv = {};
// Emmett PostgreSQL's server: started for its rows, stopped right after them
async function withPostgres(rows) {
  let server;
  try {
    server = await startPostgres();
  } catch (error) {
    const failed = { value: null, unit: "", notes: `failed: PostgreSQL did not start: ${String(error.message).split("\n")[0]}` };
    return Object.fromEntries(Object.keys(rows).map((key) => [key, failed]));
  }
  rowEnv.OPSLEDGER_BENCH_POSTGRES = server.connectionString;
  try {
    const results = {};
    for (const [key, args] of Object.entries(rows)) results[key] = await row("emmett.mjs", "postgresql", ...args);
    return results;
  } finally {
    delete rowEnv.OPSLEDGER_BENCH_POSTGRES;
    server.stop();
  }
}

log("measuring (each row in its own process)…");
const r = {
  replay10k: await row("replay.mjs", "10000"),
  replay100k: await row("replay.mjs", "100000"),
  replay1m: await row("replay.mjs", "1000000"),
  replayS3: await row("replay.mjs", "100000", "s3"),
  single: await row("append.mjs", "single"),
  concurrent: await row("append.mjs", "concurrent"),
  batch: await row("append.mjs", "batch"),
  ledgerObserve: await row("ledger.mjs", "observe"),
  flatLatency: await row("fs-flat.mjs", "latency"),
  bigLine: await row("fs-flat.mjs", "bigline"),
  memOurs: await row("memory-append.mjs", "ours"),
  memEmmett: await row("memory-append.mjs", "emmett"),
  memCastore: await row("memory-append.mjs", "castore"),
  sqliteSingle: await row("emmett.mjs", "sqlite", "single"),
  sqliteProbe: await row("emmett.mjs", "sqlite", "probe"),
  sqliteBatch: await row("emmett.mjs", "sqlite", "batch"),
  sqliteRead: await row("emmett.mjs", "sqlite", "read"),
  ...(await withPostgres({ postgresSingle: ["single"], postgresBatch: ["batch"], postgresRead: ["read"] })),
  eval100: await row("compute.mjs", "evaluate", "100"),
  eval1k: await row("compute.mjs", "evaluate", "1000"),
  eval10k: await row("compute.mjs", "evaluate", "10000"),
  eval100k: await row("compute.mjs", "evaluate", "100000"),
  cohort1: await row("compute.mjs", "cohort", "1"),
  cohort2: await row("compute.mjs", "cohort", "2"),
  status1k: await row("compute.mjs", "status", "1000"),
  status100k: await row("compute.mjs", "status", "100000"),
  checkpoints: await row("proof.mjs", "checkpoints"),
  prove1m: await row("proof.mjs", "prove", "1000000"),
  openLong: await row("open.mjs"),
};

const notes = (...results) =>
  results
    .map((x) => x.notes)
    .filter(Boolean)
    .join("; ");
// one table row: our figure, the baseline measured in this run, and the bar (a ratio or an absolute floor/ceiling)
function line(name, ours, baseline, bar, unitOverride) {
  const value = ours?.value ?? null;
  // a peer that crashed gives no figure to compare with: reported in notes, no ratio, no verdict
  const crashed = /crashed|failed/.test(baseline?.notes ?? "");
  const base = baseline === null || crashed ? null : (baseline?.value ?? null);
  const ratio = value !== null && base ? value / base : null;
  let pass = null;
  if (bar?.ratio !== undefined) pass = crashed ? null : ratio !== null && ratio >= bar.ratio;
  if (bar?.min !== undefined) pass = value !== null && value >= bar.min;
  if (bar?.max !== undefined) pass = value !== null && value <= bar.max;
  return {
    name,
    value,
    unit: unitOverride ?? ours?.unit ?? "",
    baseline: base,
    ratio,
    bar: bar?.text ?? "—",
    pass,
    notes: notes(ours ?? {}, baseline ?? {}),
  };
}
const rss = (x) => (x ? { value: x.peakRssMb, unit: "MB", notes: x.notes } : null);
const as = (value, unit) => ({ value, unit });

const rows = [
  line("verified replay from fs, 100k events (parse + hash + fold into status)", r.replay100k, as(r.replay100k.baseline, "events/s"), {
    ratio: 1.2,
    text: "≥ 1.2× parse+hash (quality bar)",
  }),
  line("verified replay from fs vs Emmett SQLite read + fold", r.replay100k, r.sqliteRead, { ratio: 2, text: "≥ 2× Emmett SQLite" }),
  line("verified replay from fs vs Emmett PostgreSQL read + fold (unverified)", r.replay100k, r.postgresRead, undefined),
  line("durable single-event append (fs, acked after fdatasync)", r.single, as(r.single.baseline, "events/s"), {
    ratio: 0.8,
    text: "≥ 0.8× raw write+fdatasync",
  }),
  line(
    "durable single-event append vs Emmett SQLite",
    r.single,
    { ...r.sqliteSingle, notes: notes(r.sqliteSingle, r.sqliteProbe) },
    { ratio: 2, text: "≥ 2× Emmett SQLite" },
  ),
  line("durable single-event append vs Emmett PostgreSQL", r.single, r.postgresSingle, undefined),
  line("64 concurrent appenders, one event per call (group commit)", r.concurrent, as(r.concurrent.baseline, "events/s"), {
    ratio: 10,
    text: "≥ 10× single durable",
  }),
  line("64 concurrent appenders vs Emmett SQLite batches of 100", r.concurrent, r.sqliteBatch, {
    ratio: 1,
    text: "> Emmett SQLite batched",
  }),
  line("64 concurrent appenders vs Emmett PostgreSQL batches of 100", r.concurrent, r.postgresBatch, undefined),
  line(
    "64 concurrent observe() on one ledger instance (fs, ledger group commit)",
    r.ledgerObserve,
    as(r.ledgerObserve.baseline, "calls/s"),
    {
      ratio: 10,
      text: "≥ 10× sequential calls",
    },
  ),
  line("durable append at 300k events vs at 1k events (fs, flat cost)", r.flatLatency, as(r.flatLatency.baseline, "appends/s"), {
    ratio: 0.8,
    text: "≥ 0.8× at 1k events",
  }),
  line("reading one 64 MiB record (fs) vs readFileSync of its segment", r.bigLine, as(r.bigLine.baseline, "MiB/s"), {
    ratio: 0.5,
    text: "≥ 0.5× readFileSync",
  }),
  line("durable batch append, 100 events per call", r.batch, as(r.batch.baseline, "events/s"), {
    ratio: 0.5,
    text: "≥ 0.5× buffered writes, one sync",
  }),
  line("durable batch append vs Emmett SQLite batches of 100", r.batch, r.sqliteBatch, undefined),
  line("memory-store append with sealing and hashing, one per call", r.memOurs, r.memEmmett, { ratio: 2, text: "≥ 2× Emmett in-memory" }),
  line("memory-store append vs Castore in-memory adapter", r.memOurs, r.memCastore, { ratio: 1, text: "≥ 1.0× Castore in-memory" }),
  line("evaluate 10k loops (20k candidates)", r.eval10k, null, { min: 1_000_000, text: "≥ 1M candidates/s" }),
  line("status documents of a 1k-loop fleet", r.status1k, null, { min: 500, text: "≥ 500/s" }),
  line("status documents of a 100k-loop fleet", r.status100k, null, { min: 4, text: "≥ 4/s (linear from 1k)" }),
  line("cohort selection, hash v1", r.cohort1, null, { min: 10_000_000, text: "≥ 10M loops/s" }),
  line("cohort selection, hash v2", r.cohort2, null, { min: 1_000_000, text: "≥ 1M loops/s" }),
  line("replay from S3 (s3rver on loopback), 100k events in batches of 100", r.replayS3, as(r.replayS3.baseline, "events/s"), {
    ratio: 0.8,
    text: "≥ 0.8× fs replay of the same log",
  }),
  line("peak RSS, replay of 1M events over 1k loops", rss(r.replay1m), null, { max: 150, text: "≤ 150 MB" }),
  line(
    "ledger commands with automatic checkpoints every 1,000 records (memory store)",
    r.checkpoints,
    as(r.checkpoints.baseline, "commands/s"),
    {
      ratio: 0.9,
      text: "≥ 0.9× without checkpoints",
    },
  ),
  line("open + status on a 1M-event log vs on a 1k-event log (fs, from snapshots)", r.openLong, as(r.openLong.baseline, "opens/s"), {
    ratio: 0.5,
    text: "≤ 2× the 1k-event log",
  }),
  line("inclusion proof of one seq of a 1M-record fs log (proveRecord)", r.prove1m, null, undefined),
  line("scale: verified replay, 10k events", r.replay10k, null, undefined),
  line("scale: verified replay, 1M events", r.replay1m, null, undefined),
  line("scale: peak RSS, replay of 10k events", rss(r.replay10k), null, undefined),
  line("scale: peak RSS, replay of 100k events", rss(r.replay100k), null, undefined),
  line("scale: evaluate 100 loops", r.eval100, null, undefined),
  line("scale: evaluate 1k loops", r.eval1k, null, undefined),
  line("scale: evaluate 100k loops", r.eval100k, null, undefined),
];

const machine = {
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  platform: `${process.platform} ${process.arch}`,
};
if (json) {
  process.stdout.write(`${JSON.stringify({ machine, rows }, null, 2)}\n`);
} else {
  const fmt = (v) => (v === null ? "—" : v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2));
  const table = rows.map((x) => [
    x.name,
    `${fmt(x.value)} ${x.unit}`,
    x.baseline === null ? "—" : fmt(x.baseline),
    x.ratio === null ? "—" : `${x.ratio.toFixed(2)}×`,
    x.bar,
    x.pass === null ? "" : x.pass ? "pass" : "SHORT",
    x.notes,
  ]);
  const head = ["row", "ours", "baseline", "ratio", "bar", "", "notes"];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => String(t[i]).length)));
  const render = (cells) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  console.log(`machine: ${machine.cpu}, ${machine.cpus} cores, ${machine.memoryGiB} GiB, Node ${machine.node}`);
  console.log(render(head));
  for (const t of table) console.log(render(t));
}
