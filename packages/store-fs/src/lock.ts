import { randomUUID } from "node:crypto";
import { StoreUnavailableError } from "@opsledger/core/store";
import type { FileOps, ProcessIdentity } from "./file-ops.ts";

/** What a lock file holds: who writes the stream now. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The boot the owner ran in: a lock from an earlier boot is stale whatever its pid. */
  readonly boot?: string;
  /** Unique to one acquisition, so a takeover and a release can tell this lock from the next one. */
  readonly token?: string;
  readonly acquiredAt: string;
}

/** The lock file of a stream, inside the stream's directory, where no stream id can name a file. */
export const LOCK_FILE = ".lock";
// held for the instant of breaking a stale lock, so only one process breaks it
const BREAK_SUFFIX = ".break";
// a break lock older than this was left by a breaker that died mid-takeover (a takeover takes milliseconds)
const BREAK_STALE_MS = 10_000;
// a lock file still unreadable after this long: its writer died between creating and filling it
const UNFILLED_STALE_MS = 1000;

// the tokens of the locks this process holds right now: a lock file of this very process with
// another token is one it failed to remove (its release failed), and stale like a dead owner's
const held = new Set<string>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

/**
 * One writer per stream across processes: a lock file created with O_EXCL, holding pid, host,
 * boot and a token.
 *
 * Stale-lock rule: a lock of this host whose owner is no longer running (kill -9, crash) or ran
 * in an earlier boot is stale and taken over; a lock of another host is never broken
 * automatically, since its owner cannot be checked from here (remove the file by hand once that
 * writer is known to be gone). Taking over is atomic: the breaker first takes a second lock
 * (`.lock.break`, O_EXCL), re-reads the lock under it and removes it only if it still holds the
 * stale owner's token, so two processes that both saw the same stale lock cannot remove each
 * other's fresh one; a release checks and removes its own lock under the same break lock, so a
 * takeover cannot slip between its check and its removal. Every wait, a stale lock's included,
 * gives up after `timeoutMs` with a clear error; a lock that cannot be created at all
 * (permissions, read-only, missing directory) fails at once.
 */
export async function withLock<T>(
  ops: FileOps,
  me: ProcessIdentity,
  path: string,
  streamId: string,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const token = randomUUID();
  const mine: LockOwner = { pid: me.pid, host: me.host, boot: me.boot, token, acquiredAt: new Date().toISOString() };
  const started = Date.now();
  const fail = (cause: unknown): never => {
    throw new StoreUnavailableError("fs", "lock", streamId, { cause });
  };
  let delay = 1;
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(ops, path, mine).catch(fail)) break;
    const owner = await readOwner(ops, path);
    const stale = owner !== "gone" && (await isStale(ops, me, path, owner));
    if (stale) await breakStale(ops, me, path, owner).catch(fail);
    // every way round this loop, a stale lock's included, honours the timeout
    if (Date.now() - started > timeoutMs) {
      const who =
        owner === "gone" || owner === "unreadable"
          ? "another writer"
          : `pid ${owner.pid} on ${owner.host} since ${owner.acquiredAt}${stale ? " (stale, and it could not be removed)" : ""}`;
      fail(new Error(`stream is locked by ${who} (${path}); waited ${timeoutMs} ms`));
    }
    // a lock just broken or just gone is tried again at once, a few times
    if ((stale || owner === "gone") && attempt < 3) continue;
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
  held.add(token);
  try {
    return await work();
  } finally {
    // the token stays held until the lock is gone, so no store of this process judges it stale meanwhile
    await release(ops, me, path, token, timeoutMs).finally(() => held.delete(token));
  }
}

// Removes our own lock, never one a breaker (wrongly) replaced. The check and the removal happen
// under the break lock: without it, a breaker could remove the lock and create its own between
// the two, and the removal would take the breaker's fresh lock, letting a third writer in beside it.
async function release(ops: FileOps, me: ProcessIdentity, path: string, token: string, timeoutMs: number): Promise<void> {
  const removeIfMine = async () => {
    const owner = await readOwner(ops, path);
    if (owner !== "gone" && owner !== "unreadable" && owner.token === token) await ops.unlink(path).catch(() => undefined);
  };
  const started = Date.now();
  let delay = 1;
  for (;;) {
    // a break lock that cannot even be created (a full disk) leaves the unguarded release
    const done = await underBreakLock(ops, me, path, removeIfMine).catch(() => "failed" as const);
    if (done === true) return;
    // a live breaker holds the break lock for milliseconds; one stuck longer than our own lock
    // timeout is not coming back, and a checked release without it beats a lock left behind
    if (done === "failed" || Date.now() - started > timeoutMs) return removeIfMine();
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
}

// creates the lock file with our owner record; false when it exists
async function tryCreate(ops: FileOps, path: string, owner: LockOwner): Promise<boolean> {
  let handle: Awaited<ReturnType<FileOps["open"]>>;
  try {
    handle = await ops.open(path, "create");
  } catch (error) {
    if (code(error) === "EEXIST") return false;
    throw error;
  }
  try {
    const bytes = Buffer.from(JSON.stringify(owner));
    let written = 0;
    while (written < bytes.length) {
      const n = await handle.write(bytes.subarray(written));
      if (n <= 0) throw new Error("lock file write made no progress");
      written += n;
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    await ops.unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return true;
}

async function readOwner(ops: FileOps, path: string): Promise<LockOwner | "unreadable" | "gone"> {
  let text: string;
  try {
    text = await ops.readFile(path);
  } catch (error) {
    return code(error) === "ENOENT" ? "gone" : "unreadable";
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return typeof owner.pid === "number" && typeof owner.host === "string" ? owner : "unreadable";
  } catch {
    return "unreadable"; // being written right now, or its writer died while writing it
  }
}

async function isStale(ops: FileOps, me: ProcessIdentity, path: string, owner: LockOwner | "unreadable"): Promise<boolean> {
  if (owner === "unreadable") return olderThan(ops, path, UNFILLED_STALE_MS);
  if (owner.host !== me.host) return false;
  if (owner.boot !== undefined && owner.boot !== me.boot) return true;
  if (owner.pid === me.pid && owner.token !== undefined) return !held.has(owner.token);
  return !me.alive(owner.pid);
}

async function olderThan(ops: FileOps, path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await ops.stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}

// Runs `work` holding the break lock (`.lock.break`, O_EXCL, owned like a lock); false, without
// running it, when another live process holds it. A break lock left by a process gone, or by this
// process outside any break (an unlink that failed), is removed at once; one of another host or
// unreadable only once it is older than any takeover takes.
async function underBreakLock(ops: FileOps, me: ProcessIdentity, path: string, work: () => Promise<void>): Promise<boolean> {
  const breakPath = path + BREAK_SUFFIX;
  const token = randomUUID();
  const breaker: LockOwner = { pid: me.pid, host: me.host, boot: me.boot, token, acquiredAt: new Date().toISOString() };
  if (!(await tryCreate(ops, breakPath, breaker))) {
    const owner = await readOwner(ops, breakPath);
    const left =
      owner !== "gone" &&
      (owner === "unreadable" || owner.host !== me.host
        ? await olderThan(ops, breakPath, BREAK_STALE_MS)
        : await isStale(ops, me, breakPath, owner));
    if (left) await ops.unlink(breakPath).catch(() => undefined);
    return false;
  }
  held.add(token);
  try {
    await work();
  } finally {
    await ops.unlink(breakPath).catch(() => undefined);
    held.delete(token);
  }
  return true;
}

// removes the lock only if, under the break lock, it is still the stale one we saw; when another
// process is breaking it right now, lets it (the caller tries again)
async function breakStale(ops: FileOps, me: ProcessIdentity, path: string, stale: LockOwner | "unreadable"): Promise<void> {
  await underBreakLock(ops, me, path, async () => {
    const now = await readOwner(ops, path);
    const same =
      now !== "gone" &&
      (stale === "unreadable"
        ? now === "unreadable" && (await olderThan(ops, path, UNFILLED_STALE_MS))
        : now !== "unreadable" && now.token === stale.token && now.pid === stale.pid && now.acquiredAt === stale.acquiredAt);
    // whatever it wrote without a sync is recovered by the next writer's tail check; a stale lock
    // already gone (a breaker that took our break lock for stale removed it first) is what we wanted
    if (same) await ops.unlink(path).catch((error) => (code(error) === "ENOENT" ? undefined : Promise.reject(error)));
  });
}
