import type { EventStore } from "../store/event-store.ts";

/** How many records of each event type a stream holds (for campaigns that check exact counts). */
export async function countEventTypes(store: EventStore, streamId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const record of store.read(streamId)) {
    const type = (JSON.parse(record.line) as { record: { type: string } }).record.type;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}
