import type { Envelope } from "../chain/seal.ts";
import type { NewEvent } from "../events/catalogue.ts";
import type { LedgerState } from "../fleet/ledger-state.ts";
import { type Ledger, openLedger } from "../ledger.ts";
import type { EventStore } from "../store/event-store.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { fixedClock, type ManualClock, sequentialIds } from "./clock.ts";

/** What a command did in a scenario: its result, the events it appended, the state after. */
export interface Outcome<Result> {
  readonly result: Result;
  readonly emitted: readonly Envelope[];
  readonly state: LedgerState;
  readonly ledger: Ledger;
}

/** A given/when/then scenario over an in-memory ledger with a fixed clock and sequential ids. */
export interface Scenario {
  readonly clock: ManualClock;
  readonly store: EventStore;
  /** Runs the command on a ledger holding the given events; collects what it appended. */
  when<Result>(command: (ledger: Ledger) => Promise<Result>): Promise<Outcome<Result>>;
}

/** Options of `given`. */
export interface ScenarioOptions {
  readonly fleetId?: string;
  /** The clock's time; defaults to 2026-03-01T00:00:00.000Z. */
  readonly now?: string;
}

/**
 * Starts a decider scenario: `given(events).when(command)` returns the command's outcome.
 * @example
 * const { emitted } = await given([]).when((ledger) => ledger.init());
 * expect(emitted.map((e) => e.type)).toEqual(["LedgerCreated"]);
 */
export function given(events: readonly NewEvent[], options: ScenarioOptions = {}): Scenario {
  const clock = fixedClock(options.now ?? "2026-03-01T00:00:00.000Z");
  const store = createMemoryEventStore();
  const fleetId = options.fleetId ?? "default";
  return {
    clock,
    store,
    async when<Result>(command: (ledger: Ledger) => Promise<Result>): Promise<Outcome<Result>> {
      const ledger = await openLedger({ store, fleetId, clock, ids: sequentialIds("evt") });
      if (events.length > 0) await ledger.execute(() => ({ events, result: undefined }));
      const before = ledger.head()?.seq ?? 0;
      const result = await command(ledger);
      const emitted: Envelope[] = [];
      for await (const record of store.read(fleetId, { fromSeq: before + 1 })) {
        emitted.push((JSON.parse(record.line) as { record: Envelope }).record);
      }
      return { result, emitted, state: ledger.state(), ledger };
    },
  };
}
