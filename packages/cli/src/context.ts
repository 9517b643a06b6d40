import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type AutomaticCheckpoints,
  type Clock,
  type EventStore,
  type Issue,
  type Ledger,
  openLedger,
  parseSignerKey,
  parseStreamId,
  parseTimestamp,
  StoreUnavailableError,
  systemClock,
} from "@opsledger/core";
import { apartFrom, checkpointName, openCheckpointFolder } from "./checkpoint-folder.ts";
import { RefusedError, UsageError } from "./exit-codes.ts";
import { flag, has, type Invocation } from "./invocation.ts";
import { createOutput, type Io, type Output } from "./io.ts";
import { openStore, parseStoreLocation, type StoreFindings, type StoreLocation } from "./store-url.ts";

/** Everything a command needs: parsed flags, output, the store, the clock, the fleet. */
export interface Context {
  readonly io: Io;
  readonly invocation: Invocation;
  readonly out: Output;
  readonly location: StoreLocation;
  readonly fleetId: string;
  readonly clock: Clock;
  /** The store, opened on first use and closed when the command ends. */
  store(): Promise<EventStore>;
  /** False for a filesystem store whose directory is not there (opening a writing command's store creates it). */
  storeExists(): Promise<boolean>;
  /** The fleet's ledger on the store, opened under a progress bar ("reading and folding the log"). */
  ledger(): Promise<Ledger>;
  /** The fleet's head seq when the command first looked (0 without a ledger): progress totals and seq bounds. */
  headSeq(): Promise<number>;
  /** Runs `work` on the store under a progress bar named `phase`, counting the fleet's records it reads. */
  reading<T>(phase: string, work: (store: EventStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A clock from --at / OPSLEDGER_NOW (fixed, so scripted runs are deterministic), else the wall clock. */
export function clockFrom(value: string | undefined): Clock {
  if (value === undefined) return systemClock;
  const time = parseTimestamp(value);
  if (time === undefined) throw new UsageError(`--at / OPSLEDGER_NOW must be an ISO-8601 UTC time (2026-02-23T09:00:00Z), got ${value}`);
  return { now: () => new Date(time) };
}

export function createContext(io: Io, invocation: Invocation, readOnly = false): Context {
  const location = parseStoreLocation(flag(invocation, "store") ?? io.env["OPSLEDGER_STORE"] ?? "./.opsledger", io.cwd);
  const fleetId = flag(invocation, "fleet") ?? "default";
  try {
    parseStreamId(fleetId);
  } catch (error) {
    throw new UsageError(`--fleet: ${(error as Error).message}`);
  }
  const clock = clockFrom(flag(invocation, "at") ?? io.env["OPSLEDGER_NOW"]);
  let store: Promise<EventStore> | undefined;
  let ledger: Promise<Ledger> | undefined;
  // the fleet's head seq as the command found it: read once (a reading command reads it when it opens the store)
  let headAtStart: Promise<number> | undefined;
  // what the store repaired or found, said on stderr as it happens and added to --json output
  const repairs: unknown[] = [];
  const tailDamage: unknown[] = [];
  const out = createOutput(io, has(invocation, "json"), () => ({
    ...(repairs.length > 0 ? { repairs } : {}),
    ...(tailDamage.length > 0 ? { tailDamage } : {}),
  }));
  const findings: StoreFindings = {
    repaired(event) {
      repairs.push(event);
      const what =
        event.kind === "missing_newline"
          ? "gave a record back its missing newline"
          : `cut ${event.truncatedBytes} bytes that were not a record`;
      out.error(`repaired ${event.streamId}/${event.segment}: ${what} at byte ${event.offset} (${event.kind})`);
    },
    damaged(damage) {
      if (tailDamage.some((d) => JSON.stringify(d) === JSON.stringify(damage))) return;
      tailDamage.push(damage);
      out.error(
        `found ${damage.bytes} bytes after the last record of ${damage.streamId}/${damage.segment} at byte ${damage.offset} that are not a record (${damage.kind}, a write cut short): the next write removes them`,
      );
    },
  };
  const context: Context = {
    io,
    invocation,
    out,
    location,
    fleetId,
    clock,
    store: () => {
      store ??= (async () => {
        // reading commands never create a store: a mistyped --store is one clear error, not an empty fleet
        if (readOnly && location.kind === "fs" && !(await exists(location.dir))) {
          throw new StoreUnavailableError("fs", "open", undefined, { cause: new Error(`no store at ${location.dir}`) });
        }
        const opened = await openStore(location, io.env, findings);
        if (!readOnly) return opened;
        const head = await opened.head(fleetId);
        headAtStart = Promise.resolve(head?.seq ?? 0);
        if (head === undefined) {
          // a mistyped --fleet is one clear error too, not an empty fleet
          const fleets: string[] = [];
          for await (const stream of opened.listStreams()) fleets.push(stream);
          await opened.close();
          throw new RefusedError(
            `no ledger "${fleetId}" in ${describeLocation(location)} (${fleets.length > 0 ? `its fleets: ${fleets.join(", ")}` : "it has none: run opsledger init"})`,
          );
        }
        return opened;
      })();
      return store;
    },
    storeExists: async () => location.kind !== "fs" || (await exists(location.dir)),
    ledger: () => {
      ledger ??= automaticCheckpoints(io, fleetId, location, out).then((checkpoints) =>
        context.reading("reading and folding the log", (s) =>
          openLedger({ store: s, fleetId, clock, ...(checkpoints ? { checkpoints } : {}) }),
        ),
      );
      return ledger;
    },
    headSeq: async () => {
      const opened = await context.store(); // a reading command's store has read it on opening
      headAtStart ??= opened.head(fleetId).then((head) => head?.seq ?? 0);
      return headAtStart;
    },
    reading: async (phase, work) => {
      const base = await context.store();
      const bar = out.progress(phase, await context.headSeq());
      let live = true;
      try {
        return await work(countingReads(base, fleetId, (seq) => live && bar.update(seq)));
      } finally {
        live = false;
        bar.done();
      }
    },
    close: async () => {
      if (store) await (await store.catch(() => undefined))?.close();
    },
  };
  return context;
}

/**
 * Automatic checkpoints for writing commands, when $OPSLEDGER_CHECKPOINT_DIR and
 * $OPSLEDGER_SIGNING_KEY are set: every $OPSLEDGER_CHECKPOINT_EVERY records (1,000 by default)
 * the ledger signs one into that directory, kept apart from the store.
 */
async function automaticCheckpoints(
  io: Io,
  fleetId: string,
  location: StoreLocation,
  out: Output,
): Promise<AutomaticCheckpoints | undefined> {
  const where = io.env["OPSLEDGER_CHECKPOINT_DIR"];
  const key = io.env["OPSLEDGER_SIGNING_KEY"];
  if (!where) return undefined;
  if (!key) throw new UsageError("$OPSLEDGER_CHECKPOINT_DIR is set: automatic checkpoints need $OPSLEDGER_SIGNING_KEY too");
  const every = Number(io.env["OPSLEDGER_CHECKPOINT_EVERY"] ?? 1000);
  if (!Number.isSafeInteger(every) || every < 1) {
    throw new UsageError(`$OPSLEDGER_CHECKPOINT_EVERY must be a record count from 1, got ${io.env["OPSLEDGER_CHECKPOINT_EVERY"]}`);
  }
  let signer: ReturnType<typeof parseSignerKey>;
  try {
    signer = parseSignerKey(key);
  } catch (error) {
    throw new RefusedError(`the signing key in $OPSLEDGER_SIGNING_KEY is not usable: ${(error as Error).message}`);
  }
  apartFrom(where, io.cwd, location);
  return {
    signers: [signer],
    everyRecords: every,
    async publish(note, { size }) {
      // opened for each checkpoint (one in `every` records), so no client outlives the command
      const folder = await openCheckpointFolder(where, io, location);
      try {
        await folder.put(checkpointName(fleetId, size), note);
      } finally {
        folder.close();
      }
    },
    onError: (error) =>
      out.error(`could not publish a checkpoint to ${where}: ${(error as Error).message} (the next one that is due tries again)`),
  };
}

/**
 * The store, seen through a wrapper that reports the seq of every record of the fleet read from
 * it (to draw progress); everything else (the fs store's `tailDamage`, say) passes through.
 */
function countingReads(store: EventStore, fleetId: string, onRecord: (seq: number) => void): EventStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "read")
        return async function* (streamId: string, options?: Parameters<EventStore["read"]>[1]) {
          for await (const record of target.read(streamId, options)) {
            if (streamId === fleetId) onRecord(record.seq);
            yield record;
          }
        };
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * Reads a text file named on the command line (`-`: standard input); refuses with one clear line
 * when it cannot. A UTF-8 byte-order mark, which some editors write, is not part of the text.
 */
export async function readTextFile(io: Io, path: string, what: string): Promise<string> {
  try {
    const text = path === "-" ? await readAll(io) : await readFile(resolve(io.cwd, path), "utf8");
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RefusedError(
      `cannot read the ${what} ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message}`,
    );
  }
}

/** Reads a JSON file named on the command line, as `readTextFile`. */
export async function readJsonFile(io: Io, path: string, what: string): Promise<unknown> {
  const text = await readTextFile(io, path, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RefusedError(`the ${what} ${path === "-" ? "on standard input" : path} is not valid JSON: ${(error as Error).message}`);
  }
}

async function readAll(io: Io): Promise<string> {
  if (!io.stdin) throw new Error("no standard input");
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** A refusal listing every issue with its path. */
export const refused = (summary: string, issues: readonly Issue[]): RefusedError => new RefusedError(summary, issues);

export const describeLocation = (location: StoreLocation): string =>
  location.kind === "fs" ? location.dir : `s3://${location.bucket}/${location.prefix}`;

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );
