// What the fs store does with damage it can name: a record that lost its newline, bytes after
// the last record, symbolic links, lock files, a directory it cannot create, a full disk mid-commit.
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isOpsledgerError, verifyLog } from "@opsledger/core";
import { makeRecords } from "@opsledger/store-contract";
import { afterAll, describe, expect, it } from "vitest";
import { createFsEventStore, type RecoveryEvent, type TailDamage } from "../src/index.ts";
import { faulty, SimFs } from "./sim-fs.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "opsledger-damage-"));
  dirs.push(dir);
  return dir;
};
const SEGMENT = "00000000000000000001.ndjson";

async function written(count: number) {
  const dir = await tempDir();
  const store = createFsEventStore({ dir });
  const records = makeRecords("s", count);
  await store.append({ streamId: "s", expectedSeq: 0, records });
  await store.close();
  return { dir, records, segment: join(dir, "s", SEGMENT) };
}

describe("fs store damage at the end of a stream", () => {
  it("keeps a last record that lost only its final newline, and gives the newline back on the next write", async () => {
    const { dir, records, segment } = await written(3);
    const { size } = await stat(segment);
    await truncate(segment, size - 1);
    const repairs: RecoveryEvent[] = [];
    const store = createFsEventStore({ dir, onRecovery: (e) => repairs.push(e) });
    expect(await store.head("s")).toEqual({ seq: 3, hash: records[2]?.hash });
    expect(await verifyLog(store, "s")).toMatchObject({ ok: true, count: 3 });
    await store.append({ streamId: "s", expectedSeq: 3, records: makeRecords("s", 1, { after: records[2] }) });
    expect(repairs).toEqual([{ kind: "missing_newline", streamId: "s", segment: SEGMENT, offset: size - 1, truncatedBytes: 0 }]);
    expect(await verifyLog(store, "s")).toMatchObject({ ok: true, count: 4 });
    await store.close();
  });

  it("names trailing bytes that are not a record (file, offset, byte count) when read, and repairs them only on the next write", async () => {
    const { dir, records, segment } = await written(3);
    const { size } = await stat(segment);
    await appendFile(segment, "garbage that is not a record");
    const found: TailDamage[] = [];
    const repairs: RecoveryEvent[] = [];
    const store = createFsEventStore({ dir, onTailDamage: (d) => found.push(d), onRecovery: (e) => repairs.push(e) });
    const report = await verifyLog(store, "s");
    expect(report).toMatchObject({
      ok: true,
      count: 3,
      tailDamage: [{ kind: "torn_tail", streamId: "s", segment: SEGMENT, offset: size, bytes: 28 }],
    });
    expect(found).toContainEqual({ kind: "torn_tail", streamId: "s", segment: SEGMENT, offset: size, bytes: 28 });
    expect(repairs).toEqual([]);
    expect((await readFile(segment, "utf8")).endsWith("not a record")).toBe(true);
    await store.append({ streamId: "s", expectedSeq: 3, records: makeRecords("s", 1, { after: records[2] }) });
    expect(repairs).toEqual([{ kind: "torn_tail", streamId: "s", segment: SEGMENT, offset: size, truncatedBytes: 28 }]);
    expect(await verifyLog(store, "s")).toMatchObject({ ok: true, count: 4 });
    await store.close();
  });

  it("refuses a segment that is a symbolic link, instead of reading or appending outside its directory", async () => {
    const { dir, records, segment } = await written(2);
    const outside = join(await tempDir(), "elsewhere.ndjson");
    await writeFile(outside, await readFile(segment));
    await rm(segment);
    await symlink(outside, segment);
    const store = createFsEventStore({ dir });
    const error = await verifyLog(store, "s").catch((e: unknown) => e);
    expect(isOpsledgerError(error, "STORE_INTEGRITY")).toBe(true);
    expect(String(error)).toMatch(/symbolic link/);
    const append = await store
      .append({ streamId: "s", expectedSeq: 2, records: makeRecords("s", 1, { after: records[1] }) })
      .catch((e) => e);
    expect(isOpsledgerError(append, "STORE_INTEGRITY")).toBe(true);
    expect((await readFile(outside, "utf8")).split("\n")).toHaveLength(3); // untouched
    await store.close();
  });

  it("keeps a fleet named like a lock file apart from the fleet it would have locked", async () => {
    const dir = await tempDir();
    const store = createFsEventStore({ dir });
    await store.append({ streamId: "default", expectedSeq: 0, records: makeRecords("default", 1) });
    await store.append({ streamId: "default.lock", expectedSeq: 0, records: makeRecords("default.lock", 1) });
    await store.append({
      streamId: "default",
      expectedSeq: 1,
      records: makeRecords("default", 1, { after: (await store.head("default")) as never }),
    });
    expect((await verifyLog(store, "default")).count).toBe(2);
    expect((await verifyLog(store, "default.lock")).count).toBe(1);
    await store.close();
  });

  it("fails at once, with the reason, where the store's directory cannot be created", async () => {
    const store = createFsEventStore({ dir: "/proc/opsledger-cannot-be-here" });
    const started = Date.now();
    const error = await store.append({ streamId: "s", expectedSeq: 0, records: makeRecords("s", 1) }).catch((e: unknown) => e);
    expect(isOpsledgerError(error, "STORE_UNAVAILABLE")).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000); // never waits out a lock it cannot take
    await store.close();
  });

  it("acknowledges the append that fit its segment and refuses the one whose new segment hit a full disk; after reopen only the first is there", async () => {
    const sim = new SimFs();
    sim.mkdirDurable("/store");
    const first = createFsEventStore({ dir: "/store", fileOps: sim.ops, identity: sim.identity(), segmentBytes: 2000 });
    const base = makeRecords("s", 2, { payload: () => "x".repeat(300) });
    await first.append({ streamId: "s", expectedSeq: 0, records: base });
    await first.close();
    // the disk fills: creating the next segment fails
    // writes: the lock file, the chunk that fits, then the new segment: the third fails, as do all after
    const full = faulty(sim.ops, [{ op: "write", nth: 3, kind: "ENOSPC", sticky: true }]);
    const store = createFsEventStore({ dir: "/store", fileOps: full.ops, identity: sim.identity(), segmentBytes: 2000 });
    const a = makeRecords("s", 1, { after: base[1], payload: () => "a" });
    const b = makeRecords("s", 3, { after: a[0], payload: () => "b".repeat(600) });
    const [fits, rolls] = await Promise.allSettled([
      store.append({ streamId: "s", expectedSeq: 2, records: a }),
      store.append({ streamId: "s", expectedSeq: 3, records: b }),
    ]);
    expect(fits.status).toBe("fulfilled");
    expect(rolls.status === "rejected" && isOpsledgerError(rolls.reason, "STORE_UNAVAILABLE")).toBe(true);
    await store.close();
    sim.powerLoss();
    const reopened = createFsEventStore({ dir: "/store", fileOps: sim.ops, identity: sim.identity() });
    const hashes: string[] = [];
    for await (const record of reopened.read("s")) hashes.push(JSON.parse(record.line).hash);
    expect(hashes).toEqual([base[0].hash, base[1]?.hash, a[0].hash]);
    await reopened.close();
  });
});

describe("fs store lock files", () => {
  it("lives inside the stream's directory", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "s"));
    const store = createFsEventStore({ dir });
    await store.append({ streamId: "s", expectedSeq: 0, records: makeRecords("s", 1) });
    await store.close();
    expect(await stat(join(dir, "s.lock")).catch(() => "absent")).toBe("absent");
  });
});
