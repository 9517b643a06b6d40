import { ChainIntegrityError } from "../errors.ts";
import type { EventStore, StoredRecord, StreamHead } from "../store/event-store.ts";
import { GENESIS_HASH, sha256Hex } from "./hash.ts";
import { type Envelope, openSealedLine } from "./seal.ts";

/**
 * Reads a stream from just after `from` and hands each record to `onRecord` after checking it
 * (readable, hash, link, seq, ledger, time not before its predecessor's). Folding code uses this: it refuses to fold past damage,
 * where `verifyLog` reports every break instead. `onRecord` returns `false` to stop early.
 * @returns the last record handed over, or `from` when there was none.
 * @throws {ChainIntegrityError} at the first record that does not verify.
 */
export function followChain(
  store: EventStore,
  streamId: string,
  from: (StreamHead & { readonly at?: string | null }) | null,
  onRecord: (envelope: Envelope, hash: string) => boolean | undefined,
): Promise<StreamHead | null> {
  return followRecords(store.read(streamId, { fromSeq: (from?.seq ?? 0) + 1 }), streamId, from, onRecord);
}

/** `followChain` over records already being read: the first of them must be the one after `from`. */
export async function followRecords(
  records: AsyncIterable<StoredRecord>,
  streamId: string,
  from: (StreamHead & { readonly at?: string | null }) | null,
  onRecord: (envelope: Envelope, hash: string) => boolean | undefined,
): Promise<StreamHead | null> {
  let head: StreamHead | null = from;
  let lastAt = from?.at ?? null;
  for await (const record of records) {
    const expected = (head?.seq ?? 0) + 1;
    const opened = openSealedLine(record.line);
    if (!opened.ok) throw new ChainIntegrityError(streamId, expected, "malformed", opened.reason);
    const { envelope, claimedHash, recordBytes } = opened;
    if (sha256Hex(recordBytes) !== claimedHash) {
      throw new ChainIntegrityError(streamId, expected, "hash_mismatch", "the record's bytes do not hash to its stored hash");
    }
    if (envelope.seq !== expected) {
      const kind = envelope.seq > expected ? "gap" : "out_of_order";
      throw new ChainIntegrityError(streamId, expected, kind, `expected seq ${expected}, found seq ${envelope.seq}`);
    }
    if (envelope.prevHash !== (head?.hash ?? GENESIS_HASH)) {
      throw new ChainIntegrityError(streamId, expected, "broken_link", "prevHash does not match the previous record");
    }
    if (envelope.ledger !== streamId) {
      throw new ChainIntegrityError(streamId, expected, "broken_link", `record belongs to ledger "${envelope.ledger}"`);
    }
    if (lastAt !== null && recordedBefore(envelope.at, lastAt)) {
      throw new ChainIntegrityError(
        streamId,
        expected,
        "time_regression",
        `recorded at ${envelope.at}, before its predecessor (${lastAt})`,
      );
    }
    lastAt = envelope.at;
    head = { seq: envelope.seq, hash: claimedHash };
    if (onRecord(envelope, claimedHash) === false) break;
  }
  return head;
}

// Times the injected clock gives (toISOString: fixed width, UTC) order as strings, which is ten
// times cheaper than parsing both on every record of a replay; any other form is parsed.
const CANONICAL_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
function recordedBefore(at: string, previous: string): boolean {
  if (CANONICAL_AT.test(at) && CANONICAL_AT.test(previous)) return at < previous;
  return Date.parse(at) < Date.parse(previous);
}
