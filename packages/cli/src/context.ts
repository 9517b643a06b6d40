import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type Clock,
  type EventStore,
  type Issue,
  type Ledger,
  openLedger,
  parseStreamId,
  StoreUnavailableError,
  systemClock,
} from "@opsledger/core";
import { flag, has, type Parsed } from "./args.ts";
import { RefusedError, UsageError } from "./exit-codes.ts";
import { createOutput, type Io, type Output } from "./io.ts";
import { openStore, parseStoreLocation, type StoreFindings, type StoreLocation } from "./store-url.ts";

/** Everything a command needs: parsed flags, output, the store, the clock, the fleet. */
export interface Context {
  readonly io: Io;
  readonly parsed: Parsed;
  readonly out: Output;
  readonly location: StoreLocation;
  readonly fleetId: string;
  readonly clock: Clock;
  /** The store, opened on first use and closed when the command ends. */
  store(): Promise<EventStore>;
  /** The fleet's ledger on the store. */
  ledger(): Promise<Ledger>;
  close(): Promise<void>;
}

/** The flags every command takes. */
export const GLOBAL_FLAGS = { store: "string", fleet: "string", at: "string", json: "boolean", help: "boolean" } as const;

/** A clock from --at / OPSLEDGER_NOW (fixed, so scripted runs are deterministic), else the wall clock. */
export function clockFrom(value: string | undefined): Clock {
  if (value === undefined) return systemClock;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--at / OPSLEDGER_NOW: not a time: ${value}`);
  return { now: () => new Date(time) };
}

export function createContext(io: Io, parsed: Parsed, readOnly = false): Context {
  const location = parseStoreLocation(flag(parsed, "store") ?? io.env["OPSLEDGER_STORE"] ?? "./.opsledger", io.cwd);
  const fleetId = flag(parsed, "fleet") ?? "default";
  try {
    parseStreamId(fleetId);
  } catch (error) {
    throw new UsageError(`--fleet: ${(error as Error).message}`);
  }
  const clock = clockFrom(flag(parsed, "at") ?? io.env["OPSLEDGER_NOW"]);
  let store: Promise<EventStore> | undefined;
  let ledger: Promise<Ledger> | undefined;
  // what the store repaired or found, said on stderr as it happens and added to --json output
  const repairs: unknown[] = [];
  const tailDamage: unknown[] = [];
  const out = createOutput(io, has(parsed, "json"), () => ({
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
    parsed,
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
        return openStore(location, io.env, findings);
      })();
      return store;
    },
    ledger: () => {
      ledger ??= context.store().then((s) => openLedger({ store: s, fleetId, clock }));
      return ledger;
    },
    close: async () => {
      if (store) await (await store.catch(() => undefined))?.close();
    },
  };
  return context;
}

/** Reads a JSON file named on the command line; refuses with one clear line when it cannot. */
export async function readJsonFile(io: Io, path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, path), "utf8");
  } catch (error) {
    throw new RefusedError(
      `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RefusedError(`the ${what} ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** A refusal listing every issue with its path. */
export const refused = (summary: string, issues: readonly Issue[]): RefusedError => new RefusedError(summary, issues);

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );
