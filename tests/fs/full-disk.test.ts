// A real full disk: a 1 MiB tmpfs (CI runs as root and mounts it; .ci/run sets
// OPSLEDGER_REQUIRE_TMPFS=1 so the test cannot quietly not run there). Appends through the API and
// the CLI until the kernel answers ENOSPC: nothing acknowledged is lost, nothing refused is kept,
// the chain verifies, and once space is freed the log goes on.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, statfs, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isOpsledgerError, verifyLog } from "@opsledger/core";
import { fleetStateDocument } from "@opsledger/core/testing";
import { makeRecords } from "@opsledger/store-contract";
import { createFsEventStore, LOCK_FILE, thisProcess } from "@opsledger/store-fs";
import { afterEach, describe, expect, it } from "vitest";
import { opsledger } from "../cli/run.ts";

const required = process.env["OPSLEDGER_REQUIRE_TMPFS"] === "1";
const mounts: string[] = [];
afterEach(async () => {
  for (const dir of mounts.splice(0)) {
    try {
      execFileSync("umount", [dir]);
    } catch {
      // already gone
    }
    await rm(dir, { recursive: true, force: true });
  }
});

// mounts a tmpfs of `size`, filled but for about `free` bytes by a file that can be removed to make room
async function smallDisk(size: string, free: number): Promise<{ dir: string; filler: string } | string> {
  const dir = await mkdtemp(join(tmpdir(), "opsledger-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}): the full-disk test needs root and mount`;
  }
  mounts.push(dir);
  const fs = await statfs(dir);
  const filler = join(dir, "filler");
  await writeFile(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - free)));
  return { dir, filler };
}

// the disk, or (where mounting is not permitted and CI does not require it) a skip that says why
async function smallDiskOrSkip(context: { skip(): never }, free: number): Promise<{ dir: string; filler: string }> {
  const disk = await smallDisk("1m", free);
  if (typeof disk !== "string") return disk;
  if (required) throw new Error(disk);
  console.info(`skipped: ${disk}`);
  return context.skip();
}

describe("fs store on a real full disk", () => {
  it("through the API: every acknowledged append survives ENOSPC, no refused one is kept, and the log goes on once space is freed", async (context) => {
    const disk = await smallDiskOrSkip(context, 48 * 1024);
    const dir = join(disk.dir, "store");
    const store = createFsEventStore({ dir, segmentBytes: 16 * 1024 });
    let head: { seq: number; hash: string } | undefined;
    const acked = new Map<number, string>();
    const refused = new Set<string>();
    let failures = 0;
    for (let i = 0; i < 400 && failures < 20; i++) {
      const records = makeRecords("s", 1 + (i % 3), {
        ...(head ? { after: head } : {}),
        payload: (seq) => ({ seq, i, pad: "p".repeat(700) }),
      });
      try {
        head = await store.append({ streamId: "s", expectedSeq: head?.seq ?? 0, records });
        for (const r of records) acked.set(r.seq, r.hash);
      } catch (error) {
        expect(isOpsledgerError(error, "STORE_UNAVAILABLE"), String(error)).toBe(true);
        expect(String((error as Error).cause)).toMatch(/ENOSPC/);
        for (const r of records) refused.add(r.hash);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
    await store.close();
    const reopened = createFsEventStore({ dir, segmentBytes: 16 * 1024 });
    const found = new Map<number, string>();
    for await (const record of reopened.read("s")) found.set(record.seq, JSON.parse(record.line).hash);
    expect(found).toEqual(acked);
    for (const hash of found.values()) expect(refused.has(hash)).toBe(false);
    expect((await verifyLog(reopened, "s")).breaks).toEqual([]);
    await unlink(disk.filler);
    const more = makeRecords("s", 1, { ...(head ? { after: head } : {}) });
    await reopened.append({ streamId: "s", expectedSeq: head?.seq ?? 0, records: more });
    expect(await verifyLog(reopened, "s")).toMatchObject({ ok: true, count: acked.size + 1 });
    await reopened.close();
    console.info(
      `full disk (API): ${acked.size} acknowledged records kept, ${failures} appends refused with ENOSPC and absent, log continued after freeing space`,
    );
  });

  it("through the CLI: `observe` on a full disk exits 4 and says so, never `ok`; what it acknowledged before verifies", async (context) => {
    const disk = await smallDiskOrSkip(context, 24 * 1024);
    const cwd = disk.dir;
    const store = ["--store", join(disk.dir, "store")];
    const state = join(tmpdir(), `opsledger-full-state-${process.pid}.json`);
    await writeFile(
      state,
      JSON.stringify(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical", healthReasonCodes: ["x".repeat(600)] }])),
    );
    let acknowledged = 0;
    let refused: Awaited<ReturnType<typeof opsledger>> | undefined;
    for (let i = 0; i < 60 && !refused; i++) {
      const run = await opsledger(["observe", state, ...store, "--json"], { cwd: tmpdir() });
      if (run.code === 0) {
        expect(run.json).toMatchObject({ ok: true });
        acknowledged = run.json.seq;
      } else refused = run;
    }
    await rm(state, { force: true });
    expect(refused?.code).toBe(4);
    expect(refused?.stdout).not.toContain('"ok": true');
    expect(`${refused?.stdout}${refused?.stderr}`).toMatch(/ENOSPC|no space/i);
    await unlink(disk.filler);
    const verified = await opsledger(["verify", ...store, "--json"], { cwd });
    expect(verified.code).toBe(0);
    expect(verified.json).toMatchObject({ ok: true, count: acknowledged });
  });

  it("with a stale lock on a read-only disk: the append fails with the reason at once, never spinning", async (context) => {
    const disk = await smallDiskOrSkip(context, 512 * 1024);
    const dir = join(disk.dir, "store");
    const store = createFsEventStore({ dir });
    await store.append({ streamId: "s", expectedSeq: 0, records: makeRecords("s", 1) });
    await store.close();
    const me = await thisProcess();
    await writeFile(
      join(dir, "s", LOCK_FILE),
      JSON.stringify({ pid: 2 ** 22 + 99, host: me.host, boot: me.boot, acquiredAt: "2026-01-01T00:00:00Z" }),
    );
    execFileSync("mount", ["-o", "remount,ro", disk.dir]);
    const readOnly = createFsEventStore({ dir });
    const started = Date.now();
    const error = await readOnly
      .append({ streamId: "s", expectedSeq: 1, records: makeRecords("s", 1, { after: (await readOnly.head("s")) as never }) })
      .catch((e: unknown) => e);
    expect(isOpsledgerError(error, "STORE_UNAVAILABLE")).toBe(true);
    expect(String((error as Error).message)).toMatch(/read-only|EROFS/i);
    expect(Date.now() - started).toBeLessThan(5000); // the lock timeout is 10 s: it did not wait for it
    await readOnly.close();
  });
});
