// The lock's release, interleaved on purpose: a takeover that lands between a holder's "is this
// lock still mine?" and its removal must not lose the new holder's lock (the campaign in
// tests/fs/lock-campaign.test.ts finds the same race by chance, about once in 3,000 trials).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type FileOps, nodeFileOps, type ProcessIdentity, thisProcess } from "../src/file-ops.ts";
import { LOCK_FILE, withLock } from "../src/index.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
const DEAD_PID = 2 ** 22 + 777;
const TIMEOUT_MS = 10_000; // the store's default lock timeout

/** Runs `interlude` once, right after the holder has read its lock file during its release. */
function pausingAtRelease(path: string, releasing: () => boolean, interlude: () => Promise<void>): FileOps {
  let fired = false;
  return {
    ...nodeFileOps,
    async readFile(file) {
      const text = await nodeFileOps.readFile(file);
      if (file === path && releasing() && !fired) {
        fired = true;
        await interlude();
      }
      return text;
    },
  };
}

/** A second writer's file operations, reporting when it has been refused a lock file twice (it is waiting). */
function waitingWatch() {
  let refusals = 0;
  let signal: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => {
    signal = resolve;
  });
  const ops: FileOps = {
    ...nodeFileOps,
    async open(file, mode) {
      try {
        return await nodeFileOps.open(file, mode);
      } catch (error) {
        if (mode === "create" && ++refusals >= 2) signal();
        throw error;
      }
    },
  };
  return { ops, waiting };
}

async function race(holder: ProcessIdentity, second: ProcessIdentity, edit?: (path: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "opsledger-lock-"));
  dirs.push(dir);
  const path = join(dir, LOCK_FILE);
  let releasing = false;
  let firstReleased: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    firstReleased = resolve;
  });
  let secondHolds: () => void = () => undefined;
  const holds = new Promise<void>((resolve) => {
    secondHolds = resolve;
  });
  let secondRun: Promise<string> | undefined;
  const watch = waitingWatch();
  const ops = pausingAtRelease(
    path,
    () => releasing,
    async () => {
      await edit?.(path);
      secondRun = withLock(watch.ops, second, path, "s", TIMEOUT_MS, async () => {
        secondHolds();
        await released;
        // what the lock file says while the second writer holds the stream
        return readFile(path, "utf8").catch(() => "(no lock file)");
      });
      // the holder goes on once the second writer holds the lock or is waiting for it
      await Promise.race([holds, watch.waiting]);
    },
  );
  await withLock(ops, holder, path, "s", TIMEOUT_MS, async () => {
    releasing = true;
  });
  firstReleased();
  const seen = await (secondRun as Promise<string>);
  return { seen, path };
}

describe("fs lock release against a takeover", () => {
  it("keeps the lock of a process that took over a stale lock while the holder was releasing", async () => {
    const me = await thisProcess();
    const alive = (pid: number) => pid !== DEAD_PID;
    const holder: ProcessIdentity = { ...me, pid: 1_000_001, alive };
    const breaker: ProcessIdentity = { ...me, pid: 1_000_002, alive };
    // someone who can write the store rewrites the lock as a dead writer's while its holder releases
    const { seen, path } = await race(holder, breaker, (file) =>
      writeFile(file, JSON.stringify({ pid: DEAD_PID, host: me.host, boot: me.boot, token: "dead", acquiredAt: "2026-01-01T00:00:00Z" })),
    );
    expect(seen).toContain(`"pid":${breaker.pid},`);
    await expect(readFile(path, "utf8")).rejects.toThrow(/ENOENT/); // and released in its turn
  });

  it("never lets a second store of the same process judge a lock stale while its holder releases it", async () => {
    const me = await thisProcess();
    const { seen } = await race(me, me);
    expect(seen).toContain(`"pid":${me.pid},`);
  });

  it("takes over a stale lock past a break lock this process left behind, instead of waiting it out", async () => {
    const me = await thisProcess();
    const dir = await mkdtemp(join(tmpdir(), "opsledger-lock-"));
    dirs.push(dir);
    const path = join(dir, LOCK_FILE);
    const owner = (pid: number, token: string) =>
      JSON.stringify({ pid, host: me.host, boot: me.boot, token, acquiredAt: "2026-01-01T00:00:00Z" });
    await writeFile(path, owner(DEAD_PID, "dead"));
    // a break lock whose removal failed (an EIO on unlink): this process's, with a token no break holds
    await writeFile(`${path}.break`, owner(me.pid, "left"));
    // a lock timeout below the break lock's 10 s age rule: only its owner being gone can clear it in time
    await expect(withLock(nodeFileOps, me, path, "s", 2000, async () => "ran")).resolves.toBe("ran");
    await expect(readFile(path, "utf8")).rejects.toThrow(/ENOENT/);
    await expect(readFile(`${path}.break`, "utf8")).rejects.toThrow(/ENOENT/);
  });
});
