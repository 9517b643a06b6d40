import type { EventStore, StreamHead } from "../store/event-store.ts";
import { GENESIS_HASH, sha256Hex } from "./hash.ts";
import { type Envelope, type OpenedLine, openSealedLine } from "./seal.ts";

/** What kind of damage a break is; `decision_mismatch` is reported by decision replay. */
export type BreakKind = "hash_mismatch" | "broken_link" | "gap" | "out_of_order" | "malformed" | "time_regression" | "decision_mismatch";

/**
 * One finding. `seq` is the first record that is not what the log committed to:
 * - `malformed`: the line at that position cannot be read as a sealed record;
 * - `hash_mismatch`: the record's bytes do not hash to the hash stored with them;
 * - `broken_link`: the record is not the one its successor's `prevHash` (or the store's head) committed to;
 * - `gap`: records from `seq` on are missing;
 * - `out_of_order`: at position `seq` a record with another seq was found (duplicated or moved);
 * - `time_regression`: the record's `at` is earlier than its predecessor's (time in a ledger never goes back).
 */
export interface ChainBreak {
  readonly seq: number;
  readonly kind: BreakKind;
  readonly detail: string;
  /** Where the store holds the record, when it says (`<segment file>:<byte offset>` for the fs store). */
  readonly location?: string;
}

/**
 * Bytes after a stream's last record that are not a record (a write cut short, never
 * acknowledged): not a break of the chain, but named. Stores whose writes can be torn (the fs
 * store) list what their reads found in a `tailDamage` property; verification reports it here.
 */
export interface TailDamageFinding {
  readonly kind: "torn_tail";
  readonly streamId: string;
  readonly segment: string;
  readonly offset: number;
  readonly bytes: number;
}

/** The result of verifying a log: every break found, never only the first unless asked. */
export interface VerificationReport {
  readonly ok: boolean;
  /** Torn tails the store found while it was read (repaired by its next write); `ok` does not depend on them. */
  readonly tailDamage?: readonly TailDamageFinding[];
  /** The last record that verified in order, or null for an empty log. */
  readonly head: StreamHead | null;
  /** Lines read. */
  readonly count: number;
  readonly breaks: readonly ChainBreak[];
}

/** Options of `verifyLog`. */
export interface VerifyOptions {
  /** Stop at the first break. */
  readonly failFast?: boolean;
  /**
   * The head the log must end at, from a trusted place (a copy kept elsewhere, a signed receipt).
   * Defaults to the store's own `head()`: in a store that indexes heads apart from the records,
   * that also catches an edited or removed last record.
   */
  readonly expectHead?: StreamHead;
  /** Called with each record that verified, in seq order (replay folds from here). */
  readonly onRecord?: (envelope: Envelope, hash: string) => void;
  /** Called every `progressEvery` lines with the count so far (progress bars). */
  readonly onProgress?: (count: number) => void;
  readonly progressEvery?: number;
}

interface Opened {
  readonly opened: OpenedLine;
  readonly location: string | undefined;
}

// pairs each record with the one after it, so a swapped pair can be told from a gap
async function* withLookahead<T>(source: AsyncIterable<T>): AsyncGenerator<[T, T | undefined]> {
  let previous: { value: T } | undefined;
  for await (const item of source) {
    if (previous) yield [previous.value, item];
    previous = { value: item };
  }
  if (previous) yield [previous.value, undefined];
}

async function* openLines(store: EventStore, streamId: string): AsyncGenerator<Opened> {
  for await (const record of store.read(streamId)) yield { opened: openSealedLine(record.line), location: record.location };
}

/**
 * Streams a log from the store and checks every record: readable, its hash, its link to the
 * previous record, gapless ascending seq, and that it belongs to this ledger. Memory stays
 * constant whatever the log's length.
 * @example
 * const report = await verifyLog(store, "default");
 * if (!report.ok) for (const b of report.breaks) console.error(b.seq, b.kind, b.detail);
 */
export async function verifyLog(store: EventStore, streamId: string, options: VerifyOptions = {}): Promise<VerificationReport> {
  const anchor = options.expectHead ?? (await store.head(streamId));
  const breaks: ChainBreak[] = [];
  const report = (seq: number, kind: BreakKind, detail: string, location?: string): boolean => {
    breaks.push(location === undefined ? { seq, kind, detail } : { seq, kind, detail, location });
    return options.failFast === true;
  };
  const progressEvery = options.progressEvery ?? 10_000;

  let expected = 1; // the seq the next record must have
  let linkHash: string | undefined = GENESIS_HASH; // what the next record's prevHash must be (unknown after damage)
  let head: StreamHead | null = null;
  let count = 0;
  let pending: Opened | undefined; // the earlier half of a swapped pair, handled after its partner
  let hashAtAnchor: string | undefined; // what the log holds at the anchor's seq (records may follow it)
  let lastAt: number | undefined; // `at` of the last record taken, in ms

  // returns true to stop
  let previousLocation: string | undefined; // of the last record taken, for breaks reported at the predecessor
  const accept = (item: Opened): boolean => {
    const stop = take(item);
    previousLocation = item.location;
    return stop;
  };
  const take = (item: Opened): boolean => {
    const { opened, location } = item;
    if (!opened.ok) {
      const stop = report(expected, "malformed", opened.reason, location);
      expected++;
      linkHash = undefined;
      return stop;
    }
    const { envelope, claimedHash, recordBytes } = opened;
    const actualHash = sha256Hex(recordBytes);
    if (actualHash !== claimedHash) {
      const stop = report(
        expected,
        "hash_mismatch",
        `stored hash ${claimedHash.slice(0, 12)}…, bytes hash to ${actualHash.slice(0, 12)}…`,
        location,
      );
      // the successor committed to the stored hash if only the bytes were touched
      if (expected === anchor?.seq) hashAtAnchor = claimedHash;
      expected++;
      linkHash = claimedHash;
      return stop;
    }
    if (envelope.seq < expected) {
      return report(expected, "out_of_order", `expected seq ${expected}, found seq ${envelope.seq} again`, location);
    }
    let stop = false;
    if (envelope.seq > expected) {
      stop = report(
        expected,
        "gap",
        `seq ${expected}${envelope.seq - 1 > expected ? `..${envelope.seq - 1}` : ""} missing, found seq ${envelope.seq}`,
        location,
      );
    } else if (linkHash !== undefined && envelope.prevHash !== linkHash) {
      const predecessor = expected - 1;
      stop =
        predecessor === 0
          ? report(1, "broken_link", "the first record does not start from the genesis hash", location)
          : report(
              predecessor,
              "broken_link",
              `seq ${expected} committed to prevHash ${envelope.prevHash.slice(0, 12)}…, but seq ${predecessor} hashes to ${linkHash.slice(0, 12)}…`,
              previousLocation,
            );
    }
    if (!stop && envelope.ledger !== streamId) {
      stop = report(envelope.seq, "broken_link", `record belongs to ledger "${envelope.ledger}", not "${streamId}"`, location);
    }
    const at = Date.parse(envelope.at);
    if (!stop && lastAt !== undefined && at < lastAt) {
      stop = report(
        envelope.seq,
        "time_regression",
        `recorded at ${envelope.at}, before its predecessor (${new Date(lastAt).toISOString()})`,
        location,
      );
    }
    if (lastAt === undefined || at > lastAt) lastAt = at;
    expected = envelope.seq + 1;
    linkHash = claimedHash;
    head = { seq: envelope.seq, hash: claimedHash };
    if (envelope.seq === anchor?.seq) hashAtAnchor = claimedHash;
    if (breaks.length === 0) options.onRecord?.(envelope, claimedHash);
    return stop;
  };

  for await (const [current, next] of withLookahead(openLines(store, streamId))) {
    count++;
    if (options.onProgress && count % progressEvery === 0) options.onProgress(count);
    if (pending) {
      // `current` is the record that belonged before `pending`: take both in their true order
      const earlier = pending;
      pending = undefined;
      if (accept(current) || accept(earlier)) break;
      continue;
    }
    const seq = current.opened.ok ? current.opened.envelope.seq : undefined;
    const nextSeq = next?.opened.ok ? next.opened.envelope.seq : undefined;
    if (seq !== undefined && seq > expected && nextSeq === expected) {
      if (report(expected, "out_of_order", `seq ${seq} stored before seq ${expected}`, current.location)) break;
      pending = current;
      continue;
    }
    if (accept(current)) break;
  }

  const stopped = options.failFast === true && breaks.length > 0;
  if (!stopped && anchor) {
    const last = head as StreamHead | null;
    const reached = Math.max(expected - 1, last?.seq ?? 0);
    if (reached < anchor.seq) {
      report(reached + 1, "gap", `log ends at seq ${reached}, but its head is seq ${anchor.seq}`);
    } else if (hashAtAnchor !== undefined && hashAtAnchor !== anchor.hash) {
      report(
        anchor.seq,
        "broken_link",
        `the head committed to hash ${anchor.hash.slice(0, 12)}…, but seq ${anchor.seq} hashes to ${hashAtAnchor.slice(0, 12)}…`,
      );
    }
  }
  breaks.sort((a, b) => a.seq - b.seq);
  const found = (store as { readonly tailDamage?: readonly TailDamageFinding[] }).tailDamage?.filter((d) => d.streamId === streamId) ?? [];
  const tailDamage = [...new Map(found.map((d) => [`${d.segment}:${d.offset}:${d.bytes}`, d])).values()];
  return { ok: breaks.length === 0, head, count, breaks, ...(tailDamage.length > 0 ? { tailDamage } : {}) };
}
