import { open, readFile, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { StoreUnavailableError } from "@opsledger/core";

/** What a lock file holds: who writes the stream now. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly acquiredAt: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One writer per stream across processes: `writer.lock` created with O_EXCL, holding pid and host.
 *
 * Stale-lock rule: a lock whose owner is on this host and no longer running (kill -9, crash) is
 * stale and taken over; a lock of another host is never broken automatically, since its owner
 * cannot be checked from here (remove the file by hand once that writer is known to be gone).
 * Locks are held only for the duration of one group commit, so writers in several processes take
 * turns; a waiter gives up after `timeoutMs` with a clear error.
 */
export async function withLock<T>(path: string, streamId: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const me: LockOwner = { pid: process.pid, host: hostname(), acquiredAt: new Date().toISOString() };
  const started = Date.now();
  let delay = 1;
  for (;;) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new StoreUnavailableError("fs", "lock", streamId, { cause: error });
    }
    const owner = await readOwner(path);
    if ((owner && owner.host === me.host && !alive(owner.pid)) || (!owner && (await olderThan(path, 1000)))) {
      // stale: its writer died holding it; whatever it wrote without a sync is recovered on open
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() - started > timeoutMs) {
      const who = owner ? `pid ${owner.pid} on ${owner.host} since ${owner.acquiredAt}` : "another writer";
      throw new StoreUnavailableError("fs", "lock", streamId, {
        cause: new Error(`stream is locked by ${who} (${path}); waited ${timeoutMs} ms`),
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
  try {
    return await work();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

// a lock file still empty after a second: its writer died between creating and filling it
async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, "utf8")) as LockOwner;
    return typeof owner.pid === "number" && typeof owner.host === "string" ? owner : undefined;
  } catch {
    // being written or removed right now: treat as held
    return undefined;
  }
}
