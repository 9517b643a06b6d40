import { isOpsledgerError } from "../errors.ts";
import { type Checkpoint, ledgerOrigin, openCheckpoint, readCheckpointNote } from "../proof/checkpoint.ts";
import { equalBytes, MerkleFrontier, recordLeaf } from "../proof/merkle.ts";
import { type NoteVerifier, parseVerifierKey, toBase64 } from "../proof/note.ts";
import type { EventStore, StreamHead } from "../store/event-store.ts";
import { GENESIS_HASH, sha256Hex } from "./hash.ts";
import { type Envelope, type OpenedLine, openSealedLine } from "./seal.ts";

/** What kind of damage a break is; `decision_mismatch` is reported by decision replay, `snapshot_mismatch` by `verifySnapshots`. */
export type BreakKind =
  | "hash_mismatch"
  | "broken_link"
  | "gap"
  | "out_of_order"
  | "malformed"
  | "time_regression"
  | "decision_mismatch"
  | "snapshot_mismatch"
  | "truncated_below_checkpoint"
  | "inconsistent_with_checkpoint"
  | "bad_checkpoint_signature";

/**
 * One finding. `seq` is the first record that is not what the log committed to:
 * - `malformed`: the line at that position cannot be read as a sealed record;
 * - `hash_mismatch`: the record's bytes do not hash to the hash stored with them;
 * - `broken_link`: the record is not the one its successor's `prevHash` (or the store's head) committed to;
 * - `gap`: records from `seq` on are missing;
 * - `out_of_order`: at position `seq` a record with another seq was found (duplicated or moved);
 * - `time_regression`: the record's `at` is earlier than its predecessor's (time in a ledger never goes back);
 * - `truncated_below_checkpoint`: the log ends before the size a trusted checkpoint or head vouches
 *   for; `seq` is the first record missing;
 * - `inconsistent_with_checkpoint`: the log's first N records are not the ones a trusted checkpoint
 *   (or head) of size N vouches for; `seq` is the first record no matching anchor vouches for (the
 *   rewrite began there or later: more checkpoints narrow it);
 * - `snapshot_mismatch`: a stored snapshot of the fold at `seq` holds a state the log does not fold
 *   to (a forged or corrupted cache that ledgers would open from);
 * - `bad_checkpoint_signature`: a checkpoint passed in does not verify with the trusted keys (or
 *   names another log); `seq` is the tree size it claims, or 0. It is not used as an anchor.
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

/** A trusted tree head the log was checked against. */
export interface AnchorResult {
  /** Where it came from: a checkpoint passed in, `expectHead`, or the verifier's memory. */
  readonly kind: "checkpoint" | "expected_head" | "remembered";
  readonly size: number;
  /** True when the log holds exactly what the anchor vouches for, up to its size. */
  readonly consistent: boolean;
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
  /** The trusted heads checked, smallest first (present when any was given or remembered). */
  readonly anchors?: readonly AnchorResult[];
  /** The Merkle tree of the log (size and base64 RFC 9162 root), when asked for or anchors were checked, and the chain held. */
  readonly tree?: { readonly size: number; readonly rootHash: string };
}

/**
 * Where a verifier keeps the largest checkpoint it has verified for one ledger (trust on first
 * use, as a transparency-log client keeps its last tree head): a later verification must find
 * the log a consistent extension of it, so a rollback between two runs is caught with no file passed.
 */
export interface CheckpointMemory {
  recall(): Promise<string | undefined>;
  remember(note: string): Promise<void>;
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
  /** Signed checkpoints (C2SP signed notes) the log must be a consistent extension of. */
  readonly checkpoints?: readonly string[];
  /** Verifier keys (`<name>+<id>+<key>`) trusted to sign checkpoints. */
  readonly verifierKeys?: readonly (string | NoteVerifier)[];
  /** The origin line checkpoints must carry; defaults to `opsledger/<streamId>`. */
  readonly origin?: string;
  /** The verifier's memory of the largest checkpoint it verified (see `CheckpointMemory`). */
  readonly memory?: CheckpointMemory;
  /** Compute the log's Merkle root (`report.tree`) even with no anchor, as signing a checkpoint needs. */
  readonly tree?: boolean;
}

interface Anchor {
  readonly kind: AnchorResult["kind"];
  readonly size: number;
  /** A checkpoint vouches for the root, a bare head for the record hash at its size. */
  readonly rootHash?: Uint8Array;
  readonly hash?: string;
  readonly note?: string;
  readonly label: string;
  consistent?: boolean;
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
  for await (const record of store.read(streamId, { authoritative: true }))
    yield { opened: openSealedLine(record.line), location: record.location };
}

/**
 * Streams a log from the store and checks every record: readable, its hash, its link to the
 * previous record, gapless ascending seq, and that it belongs to this ledger. Memory stays
 * constant whatever the log's length. Given anchors (signed `checkpoints` with their
 * `verifierKeys`, an `expectHead`, a `memory`), it also proves the log is a consistent extension
 * of each, through the RFC 9162 Merkle tree it keeps as it reads (O(log n) state).
 * @example
 * const report = await verifyLog(store, "default");
 * const anchored = await verifyLog(store, "default", { checkpoints: [note], verifierKeys: [vkey] });
 * if (!report.ok) for (const b of report.breaks) console.error(b.seq, b.kind, b.detail);
 */
export async function verifyLog(store: EventStore, streamId: string, options: VerifyOptions = {}): Promise<VerificationReport> {
  const breaks: ChainBreak[] = [];
  let chainHeld = true; // no break of the chain itself so far (checkpoint findings are not)
  const report = (seq: number, kind: BreakKind, detail: string, location?: string): boolean => {
    breaks.push(location === undefined ? { seq, kind, detail } : { seq, kind, detail, location });
    if (!ANCHOR_KINDS.has(kind)) chainHeld = false;
    return options.failFast === true;
  };
  // the store's own head: a store that cannot even say what its last record is has damage the read will name
  const anchor = await store.head(streamId).catch((error: unknown) => {
    if (isOpsledgerError(error, "STORE_INTEGRITY")) return undefined;
    throw error;
  });
  const anchors = await trustedAnchors(streamId, options, report);
  const computeTree = anchors.length > 0 || options.tree === true;
  let tree = MerkleFrontier.EMPTY;
  let nextAnchor = 0; // index into `anchors` (ascending size) of the next one to reach
  let vouchedUpTo = 0; // the largest anchor size the log matched
  let anchorFailed = false; // after one inconsistency, larger anchors would only repeat it
  // An inconsistency at size s is reported once record s + 1 has linked to record s (or the log
  // ended there): when record s itself is the damage, its chain break names it, at the exact seq.
  let deferred: { readonly seq: number; readonly detail: string } | undefined;
  const checkAnchors = (seq: number, hash: string): void => {
    while (!anchorFailed && nextAnchor < anchors.length && (anchors[nextAnchor] as Anchor).size === seq) {
      const a = anchors[nextAnchor++] as Anchor;
      a.consistent = a.rootHash ? equalBytes(tree.root(), a.rootHash) : a.hash === hash;
      if (a.consistent) vouchedUpTo = seq;
      else {
        anchorFailed = true;
        const range = vouchedUpTo + 1 === seq ? `seq ${seq}` : `seq ${vouchedUpTo + 1}..${seq}`;
        deferred = {
          seq: vouchedUpTo + 1,
          detail: `the log's first ${seq} records are not the ones ${a.label} vouches for: a record in ${range} was rewritten`,
        };
      }
    }
  };
  const reportDeferred = (): boolean => {
    const found = deferred;
    deferred = undefined;
    return found !== undefined && chainHeld && report(found.seq, "inconsistent_with_checkpoint", found.detail);
  };
  const progressEvery = options.progressEvery ?? 10_000;

  let expected = 1; // the seq the next record must have
  let linkHash: string | undefined = GENESIS_HASH; // what the next record's prevHash must be (unknown after damage)
  let altLinkHash: string | undefined; // after a hash_mismatch, the other hash the successor may rightly name
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
      // the successor committed to the stored hash if only the bytes were touched, to the bytes'
      // hash if only the stored hash was: either is the one damage already reported
      if (expected === anchor?.seq) hashAtAnchor = claimedHash;
      expected++;
      linkHash = claimedHash;
      altLinkHash = actualHash;
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
    } else if (linkHash !== undefined && envelope.prevHash !== linkHash && envelope.prevHash !== altLinkHash) {
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
    altLinkHash = undefined;
    head = { seq: envelope.seq, hash: claimedHash };
    if (envelope.seq === anchor?.seq) hashAtAnchor = claimedHash;
    if (chainHeld) {
      options.onRecord?.(envelope, claimedHash);
      // the tree and the anchors speak for the log only as far as its chain holds
      if (computeTree) {
        if (!stop) stop = reportDeferred();
        tree = tree.append(recordLeaf(claimedHash));
        checkAnchors(envelope.seq, claimedHash);
      }
    }
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

  const stoppedEarly = (): boolean => options.failFast === true && breaks.length > 0;
  if (!stoppedEarly()) reportDeferred();
  const stopped = stoppedEarly();
  // the store's head is checked against a chain that held: after a break, positions and seqs part
  // ways and a head the store derives from positions (an object's first seq plus its line count)
  // would only report the same damage again, at the wrong seq
  if (!stopped && anchor && chainHeld) {
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
  const missing = anchors[nextAnchor];
  if (!stoppedEarly() && chainHeld && !anchorFailed && missing) {
    // the largest anchor beyond the end says the most; every one is inconsistent
    for (const a of anchors.slice(nextAnchor)) a.consistent = false;
    const largest = anchors[anchors.length - 1] as Anchor;
    report(
      tree.size + 1,
      "truncated_below_checkpoint",
      `the log ends at seq ${tree.size}, but ${largest.label} vouches for ${largest.size} records`,
    );
  }
  breaks.sort((a, b) => a.seq - b.seq);
  if (breaks.length === 0 && options.memory) {
    const largest = anchors.filter((a) => a.note !== undefined && a.kind === "checkpoint").at(-1);
    const remembered = anchors.find((a) => a.kind === "remembered");
    if (largest?.note && largest.size > (remembered?.size ?? -1)) await options.memory.remember(largest.note);
  }
  const found = (store as { readonly tailDamage?: readonly TailDamageFinding[] }).tailDamage?.filter((d) => d.streamId === streamId) ?? [];
  const tailDamage = [...new Map(found.map((d) => [`${d.segment}:${d.offset}:${d.bytes}`, d])).values()];
  return {
    ok: breaks.length === 0,
    head,
    count,
    breaks,
    ...(tailDamage.length > 0 ? { tailDamage } : {}),
    ...(anchors.length > 0 ? { anchors: anchors.map((a) => ({ kind: a.kind, size: a.size, consistent: a.consistent === true })) } : {}),
    ...(computeTree && chainHeld ? { tree: { size: tree.size, rootHash: toBase64(tree.root()) } } : {}),
  };
}

// the checkpoints that verify, the expected head and the remembered checkpoint, by ascending size
async function trustedAnchors(
  streamId: string,
  options: VerifyOptions,
  report: (seq: number, kind: BreakKind, detail: string) => boolean,
): Promise<Anchor[]> {
  const anchors: Anchor[] = [];
  const origin = options.origin ?? ledgerOrigin(streamId);
  const verifiers = (options.verifierKeys ?? []).map((key) => (typeof key === "string" ? parseVerifierKey(key) : key));
  for (const note of options.checkpoints ?? []) {
    const opened = openCheckpoint(note, verifiers, origin);
    if (!opened.ok) {
      report(readCheckpointNote(note)?.size ?? 0, "bad_checkpoint_signature", `a checkpoint does not verify: ${opened.reason}`);
      continue;
    }
    const { size, rootHash } = opened.checkpoint;
    anchors.push({
      kind: "checkpoint",
      size,
      rootHash,
      note,
      label: `the checkpoint of size ${size} signed by ${opened.checkpoint.signedBy.join(", ")}`,
    });
  }
  if (options.expectHead) {
    const { seq, hash } = options.expectHead;
    anchors.push({ kind: "expected_head", size: seq, hash, label: `the expected head (seq ${seq}, ${hash.slice(0, 12)}…)` });
  }
  const recalled = await options.memory?.recall();
  const remembered: Checkpoint | undefined = recalled === undefined ? undefined : readCheckpointNote(recalled);
  // one the verifier remembers is left out when a checkpoint passed in says the same
  const repeated = (c: Checkpoint) =>
    anchors.some((a) => a.size === c.size && a.rootHash !== undefined && equalBytes(a.rootHash, c.rootHash));
  if (recalled !== undefined && remembered?.origin === origin && !repeated(remembered)) {
    anchors.push({
      kind: "remembered",
      size: remembered.size,
      rootHash: remembered.rootHash,
      note: recalled,
      label: `the checkpoint of size ${remembered.size} this verifier verified before`,
    });
  }
  // an anchor of size 0 vouches for nothing
  return anchors.filter((a) => a.size > 0).sort((a, b) => a.size - b.size);
}

const ANCHOR_KINDS: ReadonlySet<BreakKind> = new Set([
  "truncated_below_checkpoint",
  "inconsistent_with_checkpoint",
  "bad_checkpoint_signature",
]);
