import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { isOpsledgerError, verifyLog } from "@opsledger/core";
import { makeRecords } from "@opsledger/store-contract";
import { afterAll, describe, expect, it } from "vitest";
import { nodeFileOps, thisProcess } from "../src/file-ops.ts";
import { createFsEventStore, LOCK_FILE, type RecoveryEvent, withLock } from "../src/index.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "opsledger-fs-"));
  dirs.push(dir);
  return dir;
};

async function filled(count: number, segmentBytes = 4096) {
  const dir = await tempDir();
  const store = createFsEventStore({ dir, segmentBytes });
  const records = makeRecords("s", count, { payload: (seq) => ({ seq, pad: "p".repeat(100) }) });
  let expectedSeq = 0;
  for (const record of records) {
    await store.append({ streamId: "s", expectedSeq, records: [record] });
    expectedSeq++;
  }
  await store.close();
  return { dir, records };
}

describe("fs store layout", () => {
  it("keeps a directory per stream with NDJSON segments named by their first seq, each line exactly the sealed bytes", async () => {
    const { dir, records } = await filled(60, 4096);
    const names = (await readdir(join(dir, "s"))).filter((name) => name.endsWith(".ndjson")).sort();
    expect(names.length).toBeGreaterThan(2);
    expect(names[0]).toBe("00000000000000000001.ndjson");
    let seq = 1;
    for (const name of names) {
      expect(Number(name.slice(0, 20))).toBe(seq);
      const lines = (await readFile(join(dir, "s", name), "utf8")).split("\n").slice(0, -1);
      for (const line of lines) expect(line).toBe(records[seq++ - 1]?.line);
    }
    expect(seq).toBe(61);
  });

  it("group-commits concurrent appends in order and answers conflicts in the same commit", async () => {
    const store = createFsEventStore({ dir: await tempDir() });
    const records = makeRecords("g", 64);
    const appends = records.map((record, index) => store.append({ streamId: "g", expectedSeq: index, records: [record] }));
    const stale = store.append({ streamId: "g", expectedSeq: 0, records: [records[0]] }).catch((e: unknown) => e);
    const heads = await Promise.all(appends);
    expect(heads.map((h) => h.seq)).toEqual(records.map((r) => r.seq));
    expect(isOpsledgerError(await stale, "STREAM_CONFLICT")).toBe(true);
    expect((await verifyLog(store, "g")).ok).toBe(true);
    await store.close();
  });
});

describe("fs store recovery", () => {
  it("truncates a torn last line on the next write, reports it, and keeps every complete record", async () => {
    const { dir, records } = await filled(5, 1 << 20);
    const segment = join(dir, "s", "00000000000000000001.ndjson");
    await appendFile(segment, '{"hash":"abc","rec');
    const events: RecoveryEvent[] = [];
    const store = createFsEventStore({ dir, onRecovery: (event) => events.push(event) });
    // readers never repair: the torn line is simply not a record yet
    expect((await store.head("s"))?.seq).toBe(5);
    const next = makeRecords("s", 1, { after: records[4] });
    expect(await store.append({ streamId: "s", expectedSeq: 5, records: next })).toEqual({ seq: 6, hash: next[0].hash });
    expect(events).toEqual([
      { kind: "torn_tail", streamId: "s", segment: "00000000000000000001.ndjson", offset: expect.any(Number), truncatedBytes: 18 },
    ]);
    expect(store.recoveries).toEqual(events);
    expect((await verifyLog(store, "s")).ok).toBe(true);
    await store.close();
  });

  it("reports a flipped byte in the middle of a segment at its seq and file offset, and never repairs it", async () => {
    const { dir } = await filled(20, 1 << 20);
    const segment = join(dir, "s", "00000000000000000001.ndjson");
    const text = await readFile(segment, "utf8");
    const lines = text.split("\n");
    const offset = lines.slice(0, 9).reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    lines[9] = (lines[9] as string).replace('"seq":10,', '"seq":10 ,');
    await writeFile(segment, lines.join("\n"));
    const store = createFsEventStore({ dir });
    const report = await verifyLog(store, "s");
    expect(report.breaks[0]).toEqual({
      seq: 10,
      kind: "hash_mismatch",
      detail: expect.any(String),
      location: `s/00000000000000000001.ndjson:${offset}`,
    });
    // a new append does not touch it
    await store.append({ streamId: "s", expectedSeq: 20, records: makeRecords("s", 1, { after: (await store.head("s")) as never }) });
    expect(await readFile(segment, "utf8")).toContain('"seq":10 ,');
    await store.close();
  });

  it("reports a log whose middle segment is missing as a gap at its first seq", async () => {
    const { dir } = await filled(60, 2048);
    const names = (await readdir(join(dir, "s"))).filter((name) => name.endsWith(".ndjson")).sort();
    await unlink(join(dir, "s", names[1] as string));
    const store = createFsEventStore({ dir });
    const report = await verifyLog(store, "s");
    expect(report.breaks.map((b) => [b.seq, b.kind])).toEqual([[Number(names[1]?.slice(0, 20)), "gap"]]);
    await store.close();
  });

  it("looks past an empty segment a crash left behind when reading, and removes it on the next write", async () => {
    const { dir, records } = await filled(10, 1 << 20);
    await writeFile(join(dir, "s", "00000000000000000011.ndjson"), "");
    const store = createFsEventStore({ dir });
    expect(await store.head("s")).toEqual({ seq: 10, hash: records[9]?.hash });
    expect((await verifyLog(store, "s")).ok).toBe(true);
    await store.append({ streamId: "s", expectedSeq: 10, records: makeRecords("s", 1, { after: records[9] }) });
    // (the writer may still hold its lock, lingering for the next append)
    expect((await readdir(join(dir, "s"))).filter((name) => name !== LOCK_FILE)).toEqual(["00000000000000000001.ndjson"]);
    expect((await verifyLog(store, "s")).count).toBe(11);
    await store.close();
  });
});

describe("fs store writer lock", () => {
  it("takes over a lock whose owner process is gone from this host (the stale-lock rule)", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "s"));
    await writeFile(
      join(dir, "s", LOCK_FILE),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), acquiredAt: "2026-01-01T00:00:00Z" }),
    );
    const store = createFsEventStore({ dir, lockTimeoutMs: 2000 });
    await expect(store.append({ streamId: "s", expectedSeq: 0, records: makeRecords("s", 1) })).resolves.toMatchObject({ seq: 1 });
    await store.close();
  });

  it("waits for a live owner and then fails with a clear lock error, never writing", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "s"));
    await writeFile(join(dir, "s", LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), acquiredAt: "2026-01-01T00:00:00Z" }));
    const store = createFsEventStore({ dir, lockTimeoutMs: 100 });
    const error = await store.append({ streamId: "s", expectedSeq: 0, records: makeRecords("s", 1) }).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "STORE_UNAVAILABLE")).toBe(true);
    expect(String((error as Error).message)).toMatch(/locked by pid \d+ on .* waited 100 ms/);
    expect(await store.head("s")).toBeUndefined();
    await store.close();
  });

  it("never breaks a lock held by another host", async () => {
    const dir = await tempDir();
    const path = join(dir, "x.lock");
    await writeFile(path, JSON.stringify({ pid: 1, host: "elsewhere.example", acquiredAt: "2026-01-01T00:00:00Z" }));
    await expect(withLock(nodeFileOps, await thisProcess(), path, "x", 50, async () => "ran")).rejects.toThrow(
      /locked by pid 1 on elsewhere.example/,
    );
    await truncate(path, 0).catch(() => undefined);
  });
});

describe("fs store: reading from the middle of a long segment", () => {
  const collect = async (store: ReturnType<typeof createFsEventStore>, fromSeq: number) => {
    const lines: { seq: number; line: string }[] = [];
    for await (const record of store.read("s", { fromSeq })) lines.push({ seq: record.seq, line: record.line });
    return lines;
  };
  async function longSegment(count: number) {
    const dir = await tempDir();
    const store = createFsEventStore({ dir });
    const records = makeRecords("s", count, { payload: (seq) => ({ seq, pad: "p".repeat(seq % 7 === 0 ? 900 : 100) }) });
    for (let at = 0; at < count; at += 1000) {
      const batch = records.slice(at, at + 1000) as [(typeof records)[0], ...typeof records];
      await store.append({ streamId: "s", expectedSeq: at, records: batch });
    }
    return { dir, store, records };
  }

  it("yields exactly what a full read yields from that seq, wherever it starts", async () => {
    const { store, records } = await longSegment(30_000);
    const full = await collect(store, 1);
    expect(full.map((r) => r.line)).toEqual(records.map((r) => r.line));
    for (const fromSeq of [2, 4097, 4098, 4099, 12_345, 20_000, 29_999, 30_000, 30_001, 40_000]) {
      expect(await collect(store, fromSeq), `fromSeq ${fromSeq}`).toEqual(full.slice(fromSeq - 1));
    }
    await store.close();
  });

  it("still starts at the right record when the lines it probes are garbage", async () => {
    const { dir, store } = await longSegment(30_000);
    await store.close();
    const [segment] = (await readdir(join(dir, "s"))).filter((name) => name.endsWith(".ndjson"));
    const path = join(dir, "s", segment as string);
    // every 50th line overwritten with bytes of the same length that are not a record
    const lines = (await readFile(path, "utf8")).split("\n");
    const damaged = lines.map((line, i) => (i % 50 === 25 && line ? "x".repeat(Buffer.byteLength(line)) : line));
    await writeFile(path, damaged.join("\n"));
    const reopened = createFsEventStore({ dir });
    const full = await collect(reopened, 1);
    for (const fromSeq of [5000, 15_001, 29_990])
      expect(await collect(reopened, fromSeq), `fromSeq ${fromSeq}`).toEqual(full.slice(fromSeq - 1));
    await reopened.close();
  });
});
