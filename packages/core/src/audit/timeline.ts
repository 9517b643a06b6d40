import { followChain } from "../chain/follow.ts";
import { type TimelineEntry, timelineEntry } from "../projections/timeline.ts";
import type { EventStore } from "../store/event-store.ts";

/**
 * The governance timeline of a ledger: every policy apply with its change class, kill switch,
 * pause, auto-pause trip and resume, acknowledgement and drill, in seq order (up to `untilSeq`).
 * Verifies as it reads.
 */
export async function auditTimeline(
  store: EventStore,
  fleetId: string,
  options: { readonly untilSeq?: number } = {},
): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = [];
  await followChain(store, fleetId, null, (envelope, hash) => {
    const entry = timelineEntry(envelope, hash);
    if (entry) entries.push(entry);
    // stop at untilSeq itself: the entries before a damaged record, without reading it
    return options.untilSeq !== undefined && envelope.seq >= options.untilSeq ? false : undefined;
  });
  return entries;
}
