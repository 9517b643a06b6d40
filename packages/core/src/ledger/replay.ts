import { followChain } from "../chain/follow.ts";
import { evolve, initialLedgerState, type LedgerState } from "../fleet/ledger-state.ts";
import type { EventStore } from "../store/event-store.ts";
import { parseStreamId } from "../store/stream-id.ts";

/** Where a replay stops: after a seq, or after the last event at or before a time. */
export type ReplayUntil = { readonly seq: number } | { readonly at: string | Date };

/**
 * Folds a ledger's log from the start up to a point and returns the state as it was then.
 * @throws {ChainIntegrityError} when the log does not verify up to that point.
 */
export async function replay(store: EventStore, fleetId: string, options: { readonly until?: ReplayUntil } = {}): Promise<LedgerState> {
  parseStreamId(fleetId);
  const until = options.until;
  const untilMs = until && "at" in until ? new Date(until.at).getTime() : undefined;
  if (untilMs !== undefined && Number.isNaN(untilMs)) throw new RangeError(`replay: not a time: ${String((until as { at: unknown }).at)}`);
  let state = initialLedgerState(fleetId);
  await followChain(store, fleetId, null, (envelope, hash) => {
    if (untilMs !== undefined && Date.parse(envelope.at) > untilMs) return false;
    state = evolve(state, envelope, hash);
    // stop at the seq itself, so a replay to just before a damaged record never reads it
    return until && "seq" in until && envelope.seq >= until.seq ? false : undefined;
  });
  return state;
}
