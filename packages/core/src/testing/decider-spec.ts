// A decider specification in the given/when/then form (Emmett's `DeciderSpecification`): given
// events (or commands, decided and folded), when a command, then these events or this rejection.
// Pure: no store and no ledger, only `decide` and `evolve` with a fixed time and sequential ids.
import { deepStrictEqual } from "node:assert/strict";
import type { Issue } from "../errors.ts";
import { type EventType, isEventType, type NewEvent } from "../events/catalogue.ts";
import { sealEvents } from "../events/seal-events.ts";
import { decide, type FleetCommand, type FleetCommandResults, withCreation } from "../fleet/decide.ts";
import { type Decision, isRejected, type RejectionCode } from "../fleet/decision.ts";
import { evolve, initialLedgerState, type LedgerState } from "../fleet/ledger-state.ts";
import { sequentialIds } from "./clock.ts";

/** What a specification starts from: an event as recorded, or a command decided (and refused if rejected). */
export type GivenStep = NewEvent | FleetCommand;

/** An event a command is expected to decide: its type, and the fields given (data compared whole). */
export interface ExpectedEvent {
  readonly type: EventType;
  readonly data?: unknown;
  readonly actor?: string;
  readonly traceId?: string;
}

/** Options of `given`. */
export interface SpecOptions {
  readonly fleetId?: string;
  /** The time of the given events and of the command; defaults to 2026-03-01T00:00:00.000Z. */
  readonly now?: string;
  /** Start from a ledger with no events at all, not even `LedgerCreated`. */
  readonly empty?: boolean;
}

/** The state a specification's given steps fold to, and the command to decide on it. */
export interface DeciderSpecification {
  readonly state: LedgerState;
  when<C extends FleetCommand>(command: C, options?: { readonly now?: string }): DecidedSpecification<FleetCommandResults[C["type"]]>;
}

/** A command decided: assert what it decided. Each assertion throws, with a diff, when it does not hold. */
export interface DecidedSpecification<Result> {
  readonly decision: Decision<Result>;
  /** Asserts the command decided exactly these events, in order; returns its result. */
  then(expected: readonly ExpectedEvent[]): Result;
  /** Asserts the command was rejected with this code (and, when given, these error paths); returns the errors. */
  thenRejects(code: RejectionCode, paths?: readonly string[]): readonly Issue[];
}

const DEFAULT_NOW = "2026-03-01T00:00:00.000Z";

/**
 * Starts a decider specification.
 * @example
 * given([{ type: "EngageKillSwitch", governance: { actor: "carol", rationale: "runaway" } }])
 *   .when({ type: "ReleaseKillSwitch", governance: { actor: "carol", rationale: "fixed" } })
 *   .thenRejects("INVALID_INPUT", ["governance.approvalRef"]);
 */
export function given(steps: readonly GivenStep[], options: SpecOptions = {}): DeciderSpecification {
  const fleetId = options.fleetId ?? "default";
  const at = options.now ?? DEFAULT_NOW;
  const ids = sequentialIds("evt");
  const context = (now: string) => ({ now: new Date(now), newId: () => ids.next() });
  let state = initialLedgerState(fleetId);
  const fold = (events: readonly NewEvent[]) => {
    const after = state.headHash === null ? null : { seq: state.seq, hash: state.headHash };
    for (const { record, envelope } of sealEvents(events, { ledger: fleetId, after, at, nextId: () => ids.next() }))
      state = evolve(state, envelope, record.hash);
  };
  if (!options.empty) fold(withCreation(state, [], true));
  for (const step of steps) {
    if (isEventType(step.type)) {
      fold([step as NewEvent]);
      continue;
    }
    const decision = decide(step as FleetCommand, state, context(at));
    if (isRejected(decision)) throw new Error(`given: ${step.type} was rejected: ${JSON.stringify(decision.rejected)}`);
    fold(decision.events);
  }
  return {
    state,
    when(command, whenOptions) {
      const decision = decide(command, state, context(whenOptions?.now ?? at));
      return decided(command.type, decision);
    },
  };
}

function decided<Result>(type: string, decision: Decision<Result>): DecidedSpecification<Result> {
  return {
    decision,
    // biome-ignore lint/suspicious/noThenProperty: given/when/then is the specification's own vocabulary (as Emmett's); awaiting it is refused below
    then(expected) {
      if (typeof expected === "function") throw new TypeError("a decider specification is synchronous: use it without await");
      if (isRejected(decision)) throw new Error(`${type} was rejected, not decided: ${JSON.stringify(decision.rejected)}`);
      // compare only the fields the expectation names, so a rule states what it is about
      const seen = decision.events.map((event, index) => {
        const want = expected[index];
        if (!want) return { type: event.type };
        const keys = Object.keys(want) as (keyof ExpectedEvent)[];
        return Object.fromEntries(keys.map((key) => [key, event[key]]));
      });
      deepStrictEqual(
        seen,
        expected.map((want) => ({ ...want })),
        `${type} decided other events than expected`,
      );
      return decision.result;
    },
    thenRejects(code, paths) {
      if (!isRejected(decision))
        throw new Error(`${type} was decided, not rejected: ${JSON.stringify(decision.events.map((e) => e.type))}`);
      const { rejected } = decision;
      deepStrictEqual(
        { code: rejected.code, ...(paths ? { paths: rejected.errors.map((issue) => issue.path) } : {}) },
        { code, ...(paths ? { paths: [...paths] } : {}) },
        `${type} was rejected otherwise than expected: ${JSON.stringify(rejected.errors)}`,
      );
      return rejected.errors;
    },
  };
}
