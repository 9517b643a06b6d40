import type { Envelope } from "../chain/seal.ts";
import { evolveFleet, type FleetState, forkFleetState, initialFleetState } from "./state.ts";

/** What a ledger knows after folding its log. Grows with the fleet, never with the number of events. */
export interface LedgerState {
  readonly fleetId: string;
  /** Seq of the last folded event; 0 for an empty ledger. */
  readonly seq: number;
  /** Hash of the last folded event, or null. */
  readonly headHash: string | null;
  readonly createdAt: string | null;
  /** `at` of the last folded event: replays answer "as of" this time. */
  readonly lastEventAt: string | null;
  readonly fleet: FleetState;
}

/** The state of a ledger with no events. */
export const initialLedgerState = (fleetId: string): LedgerState => ({
  fleetId,
  seq: 0,
  headHash: null,
  createdAt: null,
  lastEventAt: null,
  fleet: initialFleetState(),
});

/**
 * Folds one verified event into the state: the same log always folds to the same state. The
 * state is updated in place (the fold owns it, see `evolveFleet`), so folding costs no copies.
 */
export function evolve(state: LedgerState, envelope: Envelope, hash: string): LedgerState {
  const next = state as { -readonly [K in keyof LedgerState]: LedgerState[K] };
  next.seq = envelope.seq;
  next.headHash = hash;
  next.lastEventAt = envelope.at;
  if (envelope.type === "LedgerCreated") next.createdAt = envelope.at;
  next.fleet = evolveFleet(state.fleet, envelope);
  return next;
}

/** A copy of a ledger state that later folds of either copy do not change (see `forkFleetState`). */
export const forkLedgerState = (state: LedgerState): LedgerState => ({ ...state, fleet: forkFleetState(state.fleet) });
