import { GENESIS_HASH } from "../chain/hash.ts";
import { ENVELOPE_VERSION, type Envelope, seal } from "../chain/seal.ts";
import type { SealedRecord, StreamHead } from "../store/event-store.ts";
import { type NewEvent, validateEvent } from "./catalogue.ts";

/** Where sealed events go: the ledger, the head they follow, their time and their ids. */
export interface SealingPoint {
  readonly ledger: string;
  /** The head they follow; null for an empty log. */
  readonly after: StreamHead | null;
  readonly at: string;
  nextId(): string;
}

/**
 * Seals events one after another on top of `after`: each gets the next seq, an id, the time and
 * the hash of the one before. Every event is checked against the catalogue first, so a refused
 * event leaves nothing half-sealed.
 * @throws {InvalidEventError} for an event the catalogue refuses.
 */
export function sealEvents(events: readonly NewEvent[], point: SealingPoint): { record: SealedRecord; envelope: Envelope }[] {
  const data = events.map((event) => validateEvent(event.type, event.data));
  let prevHash = point.after?.hash ?? GENESIS_HASH;
  let seq = point.after?.seq ?? 0;
  return events.map((event, index) => {
    seq++;
    const envelope: Envelope = {
      v: ENVELOPE_VERSION,
      ledger: point.ledger,
      seq,
      id: point.nextId(),
      type: event.type,
      at: point.at,
      ...(event.traceId === undefined ? {} : { traceId: event.traceId }),
      ...(event.actor === undefined ? {} : { actor: event.actor }),
      data: data[index] as Envelope["data"],
      prevHash,
    };
    const record = seal(envelope);
    prevHash = record.hash;
    return { record, envelope };
  });
}
