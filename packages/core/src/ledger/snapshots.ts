// A snapshot of a ledger's fold: the folded state, the record it covers and (when the ledger
// signs checkpoints) the Merkle frontier, as canonical JSON followed by its SHA-256. It is a
// cache, never an authority: a ledger opens from one only when its digest holds, it was written
// by this fold, and the record it covers is the record the log holds at that seq; otherwise it
// folds from the start. `verifySnapshots` checks every stored snapshot against a full fold.
import { canonicalJson } from "../chain/canonical-json.ts";
import { followChain } from "../chain/follow.ts";
import { sha256Hex } from "../chain/hash.ts";
import { sealedLineHead } from "../chain/seal.ts";
import { evolve, initialLedgerState, type LedgerState } from "../fleet/ledger-state.ts";
import type { FleetState } from "../fleet/state.ts";
import { MerkleFrontier, recordLeaf } from "../proof/merkle.ts";
import type { EventStore, StoredRecord, StoredSnapshot, StreamHead } from "../store/event-store.ts";

/**
 * The version of the fold a snapshot was written by. Bump it whenever `evolve` or the shape of
 * `LedgerState` changes: snapshots of another version are ignored (a full fold rebuilds them).
 * `ledger-snapshot.test.ts` pins the bytes of a reference snapshot, so a change cannot go unseen.
 */
export const FOLD_VERSION = "opsledger-fold/1";

const DIGEST_PREFIX = "\nsha256:";

// the maps of a fleet state, stored as [key, value] lists in insertion order (which the
// projections iterate in), so a restored state behaves exactly as the folded one
const MAP_FIELDS = ["lastUnsuppressedAt", "lastDispatchedAt", "instances", "intents", "openBatches", "drills"] as const;

/** A decoded snapshot: the state as of `state.seq`, and the frontier when it was kept. */
export interface LedgerSnapshot {
  readonly state: LedgerState;
  readonly tree: MerkleFrontier | undefined;
}

/** The stored form of a ledger state (and frontier): deterministic bytes, the same on every machine. */
export function encodeSnapshot(state: LedgerState, tree: MerkleFrontier | undefined): StoredSnapshot {
  const fleet: Record<string, unknown> = { ...state.fleet };
  for (const field of MAP_FIELDS) fleet[field] = [...state.fleet[field].entries()];
  const json = canonicalJson({
    fold: FOLD_VERSION,
    state: { ...state, fleet },
    tree: tree ? { size: tree.size, peaks: tree.peakHexes() } : null,
  });
  return { seq: state.seq, body: `${json}${DIGEST_PREFIX}${sha256Hex(json)}` };
}

/**
 * The snapshot a stored body holds, or why it cannot be used (damaged, another fold version,
 * another ledger, another seq than the store filed it under).
 */
export function decodeSnapshot(stored: StoredSnapshot, fleetId: string): LedgerSnapshot | { readonly unusable: string } {
  const cut = stored.body.lastIndexOf(DIGEST_PREFIX);
  if (cut < 0) return { unusable: "no digest" };
  const json = stored.body.slice(0, cut);
  if (sha256Hex(json) !== stored.body.slice(cut + DIGEST_PREFIX.length)) return { unusable: "its bytes do not hash to its digest" };
  let parsed: {
    fold?: unknown;
    state?: Omit<LedgerState, "fleet"> & { fleet: Record<string, unknown> };
    tree?: { size: number; peaks: string[] } | null;
  };
  try {
    parsed = JSON.parse(json);
  } catch {
    return { unusable: "not JSON" };
  }
  if (parsed.fold !== FOLD_VERSION) return { unusable: `written by fold ${String(parsed.fold)}, this is ${FOLD_VERSION}` };
  const state = parsed.state;
  if (!state || state.fleetId !== fleetId) return { unusable: `not a snapshot of ledger "${fleetId}"` };
  if (state.seq !== stored.seq || typeof state.headHash !== "string")
    return { unusable: `filed at seq ${stored.seq}, covers ${state.seq}` };
  const fleet = { ...state.fleet };
  for (const field of MAP_FIELDS) {
    const entries = fleet[field];
    if (!Array.isArray(entries) || !entries.every((entry) => Array.isArray(entry) && entry.length === 2))
      return { unusable: `its ${field} is not a list of entries` };
    fleet[field] = new Map(entries as [unknown, unknown][]);
  }
  const tree = parsed.tree ? MerkleFrontier.fromPeakHexes(parsed.tree.size, parsed.tree.peaks) : undefined;
  if (parsed.tree && (!tree || tree.size !== state.seq)) return { unusable: "its Merkle frontier is damaged" };
  return { state: { ...state, fleet: fleet as unknown as FleetState }, tree };
}

/** What `verifySnapshots` found for one stored snapshot. */
export interface SnapshotFinding {
  readonly seq: number;
  /** `matches`: the same bytes a full fold gives at that seq; `differs`: a state the log does not fold to (forged or from a broken fold); `unusable`: ignored by ledgers (why in `detail`); `beyond_head`: covers records the log does not hold. */
  readonly verdict: "matches" | "differs" | "unusable" | "beyond_head";
  readonly detail?: string;
}

/** A record-by-record check of the stored snapshots: fed the state a fold reached after each verified record. */
export interface SnapshotCheck {
  /** Compares the fold after this record with a snapshot filed at its seq, if there is one. */
  readonly record: (state: LedgerState, hash: string) => void;
  /** One finding per stored snapshot, newest first (`beyond_head` for those the records fed did not reach). */
  readonly findings: () => readonly SnapshotFinding[];
}

/**
 * Reads a ledger's stored snapshots and checks each against a fold of its log: a snapshot a
 * ledger would open from must hold exactly the state the log folds to at its seq.
 */
export async function snapshotCheck(store: EventStore, fleetId: string): Promise<SnapshotCheck> {
  const stored: { snapshot: StoredSnapshot; decoded: ReturnType<typeof decodeSnapshot> }[] = [];
  for await (const snapshot of store.snapshots(fleetId)) stored.push({ snapshot, decoded: decodeSnapshot(snapshot, fleetId) });
  const usable = new Map<number, { body: string; decoded: LedgerSnapshot }>();
  for (const { snapshot, decoded } of stored) if (!("unusable" in decoded)) usable.set(snapshot.seq, { body: snapshot.body, decoded });
  // the Merkle frontier is kept only when a snapshot holds one
  const withTree = [...usable.values()].some(({ decoded }) => decoded.tree !== undefined);
  const folded = new Map<number, boolean>(); // seq → the snapshot holds what the fold holds there
  let tree = MerkleFrontier.EMPTY;
  return {
    record(state, hash) {
      if (withTree) tree = tree.append(recordLeaf(hash));
      const wanted = usable.get(state.seq);
      if (wanted) folded.set(state.seq, encodeSnapshot(state, wanted.decoded.tree ? tree : undefined).body === wanted.body);
    },
    findings: () =>
      stored.map(({ snapshot, decoded }): SnapshotFinding => {
        if ("unusable" in decoded) return { seq: snapshot.seq, verdict: "unusable", detail: decoded.unusable };
        const same = folded.get(snapshot.seq);
        if (same === undefined) return { seq: snapshot.seq, verdict: "beyond_head" };
        return { seq: snapshot.seq, verdict: same ? "matches" : "differs" };
      }),
  };
}

/**
 * {@link snapshotCheck} against a fold of the log read from the store, up to the newest snapshot.
 * @throws {ChainIntegrityError} when the log does not verify up to the newest snapshot.
 */
export async function verifySnapshots(store: EventStore, fleetId: string): Promise<readonly SnapshotFinding[]> {
  const check = await snapshotCheck(store, fleetId);
  const newest = Math.max(0, ...check.findings().map((f) => (f.verdict === "unusable" ? 0 : f.seq)));
  if (newest > 0) {
    let state = initialLedgerState(fleetId);
    await followChain(store, fleetId, null, (envelope, hash) => {
      state = evolve(state, envelope, hash);
      check.record(state, hash);
      return envelope.seq >= newest ? false : undefined;
    });
  }
  return check.findings();
}

/**
 * The newest stored snapshot a ledger can open from (its digest and fold version hold, it has the
 * Merkle frontier when `needFrontier`, and the record it covers is the record the log holds at its
 * seq), with the log's records after that one, still to fold; undefined when there is none.
 */
export async function usableSnapshot(
  store: EventStore,
  fleetId: string,
  needFrontier: boolean,
): Promise<(LedgerSnapshot & { readonly head: StreamHead; readonly rest: AsyncIterable<StoredRecord> }) | undefined> {
  for await (const stored of store.snapshots(fleetId)) {
    const decoded = decodeSnapshot(stored, fleetId);
    if ("unusable" in decoded || (needFrontier && !decoded.tree)) continue;
    const head = { seq: decoded.state.seq, hash: decoded.state.headHash as string };
    const records = store.read(fleetId, { fromSeq: head.seq })[Symbol.asyncIterator]();
    const first = await records.next();
    if (first.done || !isRecord(first.value, head)) {
      await records.return?.();
      continue;
    }
    return { ...decoded, head, rest: { [Symbol.asyncIterator]: () => records } };
  }
  return undefined;
}

// true when this stored record is exactly the one at `covered` (read and hash-checked, never trusted)
function isRecord(record: StoredRecord, covered: StreamHead): boolean {
  const held = sealedLineHead(record.line);
  return record.seq === covered.seq && held?.seq === covered.seq && held.hash === covered.hash;
}
