// Signing checkpoints of a stored log, and offline proof bundles: one JSON file that proves a
// record was in the log a key signed, checked with no access to the store.
import { z } from "zod";
import { sha256Hex } from "../chain/hash.ts";
import { type Envelope, openSealedLine } from "../chain/seal.ts";
import { type ChainBreak, type VerificationReport, verifyLog } from "../chain/verify.ts";
import type { EventStore } from "../store/event-store.ts";
import { ledgerOrigin, openCheckpoint, signCheckpoint, type VerifiedCheckpoint } from "./checkpoint.ts";
import {
  consistencyProof,
  type Digest,
  inclusionProof,
  type LeafSource,
  recordLeaf,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.ts";
import { fromBase64, type NoteSigner, type NoteVerifier, parseVerifierKey, toBase64 } from "./note.ts";

/** A log that cannot be signed or proved: its verification found breaks. */
export class UnprovableLogError extends Error {
  override readonly name = "UnprovableLogError";
  readonly breaks: readonly ChainBreak[];
  constructor(message: string, breaks: readonly ChainBreak[]) {
    super(message);
    this.breaks = breaks;
  }
}

/**
 * Verifies a stored log and signs a checkpoint of it at its head. Refuses a log with breaks, and
 * one inconsistent with the `previous` checkpoints it signed (a log must never sign two
 * checkpoints that no consistency proof joins).
 * @throws {UnprovableLogError} when the log does not verify.
 */
export async function createCheckpoint(
  store: EventStore,
  streamId: string,
  signers: readonly NoteSigner[],
  options: {
    readonly origin?: string;
    readonly previous?: readonly string[];
    readonly verifierKeys?: readonly (string | NoteVerifier)[];
    readonly onProgress?: (count: number) => void;
  } = {},
): Promise<{ readonly note: string; readonly size: number; readonly rootHash: string; readonly report: VerificationReport }> {
  const origin = options.origin ?? ledgerOrigin(streamId);
  const report = await verifyLog(store, streamId, {
    tree: true,
    origin,
    checkpoints: options.previous ?? [],
    verifierKeys: options.verifierKeys ?? [],
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (!report.ok || !report.tree) throw new UnprovableLogError(`ledger "${streamId}" does not verify: no checkpoint signed`, report.breaks);
  const { size, rootHash } = report.tree;
  const note = await signCheckpoint({ origin, size, rootHash: fromBase64(rootHash) as Digest }, signers);
  return { note, size, rootHash, report };
}

const BUNDLE_FORMAT = "opsledger-proof-bundle/v1";

const ProofBundleSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  ledger: z.string().min(1),
  seq: z.number().int().positive(),
  record: z.string(),
  treeSize: z.number().int().positive(),
  inclusionProof: z.array(z.string()),
  checkpoint: z.string(),
  consistency: z.strictObject({ checkpoint: z.string(), proof: z.array(z.string()) }).optional(),
});

/** One record, its inclusion proof and the signed checkpoint it is proved against (see `proveRecord`). */
export type ProofBundle = z.infer<typeof ProofBundleSchema>;

// leaf hashes in one growing buffer: 32 bytes each, no object per leaf
class LeafBuffer {
  private bytes = new Uint8Array(32 * 1024);
  size = 0;
  push(leaf: Digest): void {
    if ((this.size + 1) * 32 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(leaf, this.size * 32);
    this.size++;
  }
  readonly at: LeafSource = (index) => this.bytes.subarray(index * 32, index * 32 + 32);
}

/**
 * A proof bundle for the record at `seq`: the record, its inclusion proof in the tree of the
 * signed `checkpoint`, and, given an `older` checkpoint, the proof that the older tree is a prefix
 * of the newer one. Reads and verifies the whole log once, and hashes the tree up to the
 * checkpoint's size (O(size): no tree state is stored beside the log).
 * @throws {UnprovableLogError} when the log has breaks, does not match the checkpoint, or `seq` is beyond it.
 */
export async function proveRecord(
  store: EventStore,
  streamId: string,
  seq: number,
  options: {
    readonly checkpoint: string;
    readonly older?: string;
    readonly verifierKeys: readonly (string | NoteVerifier)[];
    readonly origin?: string;
    readonly onProgress?: (count: number) => void;
  },
): Promise<ProofBundle> {
  const origin = options.origin ?? ledgerOrigin(streamId);
  const verifiers = options.verifierKeys.map((key) => (typeof key === "string" ? parseVerifierKey(key) : key));
  const opened = openCheckpoint(options.checkpoint, verifiers, origin);
  if (!opened.ok) throw new UnprovableLogError(`the checkpoint does not verify: ${opened.reason}`, []);
  const { size } = opened.checkpoint;
  const older = options.older === undefined ? undefined : openCheckpoint(options.older, verifiers, origin);
  if (older && !older.ok) throw new UnprovableLogError(`the older checkpoint does not verify: ${older.reason}`, []);
  if (older?.ok && older.checkpoint.size > size) throw new UnprovableLogError("the older checkpoint is larger than the checkpoint", []);
  if (older?.ok && older.checkpoint.size === 0) throw new UnprovableLogError("an older checkpoint of an empty log proves nothing", []);
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > size) {
    throw new UnprovableLogError(`seq ${seq} is not in the checkpoint, which covers seq 1..${size}`, []);
  }
  const leaves = new LeafBuffer();
  let record: string | undefined;
  // one pass: the chain is verified and the leaves kept; the proofs, checked against the signed
  // roots, then show the log matches the checkpoints without a second tree being built
  const report = await verifyLog(store, streamId, {
    onRecord: (envelope: Envelope, hash: string) => {
      if (envelope.seq <= size) leaves.push(recordLeaf(hash));
    },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (!report.ok) throw new UnprovableLogError(`ledger "${streamId}" does not verify: no proof made`, report.breaks);
  const path = leaves.size < size ? undefined : inclusionProof(leaves.at, seq - 1, size);
  const consistency = older?.ok && path ? consistencyProof(leaves.at, older.checkpoint.size, size) : undefined;
  const matches =
    path !== undefined &&
    verifyInclusion(seq - 1, size, leaves.at(seq - 1), path, opened.checkpoint.rootHash) &&
    (!older?.ok ||
      (consistency !== undefined &&
        verifyConsistency(older.checkpoint.size, size, consistency, older.checkpoint.rootHash, opened.checkpoint.rootHash)));
  if (!matches) {
    // the log is not what a checkpoint signed: verify against them for the breaks, with their seqs
    const anchored = await verifyLog(store, streamId, {
      origin,
      verifierKeys: verifiers,
      checkpoints: [options.checkpoint, ...(options.older === undefined ? [] : [options.older])],
    });
    throw new UnprovableLogError(`ledger "${streamId}" does not match the checkpoint: no proof made`, anchored.breaks);
  }
  for await (const stored of store.read(streamId, { fromSeq: seq })) {
    record = stored.line;
    break;
  }
  if (record === undefined) throw new UnprovableLogError(`seq ${seq} could not be read back`, []);
  const encode = (proof: readonly Digest[]) => proof.map(toBase64);
  return {
    format: BUNDLE_FORMAT,
    ledger: streamId,
    seq,
    record,
    treeSize: size,
    inclusionProof: encode(path),
    checkpoint: options.checkpoint,
    ...(older?.ok && consistency ? { consistency: { checkpoint: older.checkpoint.note, proof: encode(consistency) } } : {}),
  };
}

/** What `verifyBundle` found. */
export type BundleVerification =
  | {
      readonly ok: true;
      readonly ledger: string;
      readonly seq: number;
      readonly envelope: Envelope;
      readonly checkpoint: Pick<VerifiedCheckpoint, "origin" | "size" | "signedBy">;
      readonly older?: Pick<VerifiedCheckpoint, "origin" | "size" | "signedBy">;
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Checks a proof bundle with no store: the record's bytes hash to its hash, the checkpoint is
 * signed by a trusted key for this ledger's origin, the record is leaf `seq - 1` of that tree, and
 * an older checkpoint, if any, is a prefix of it.
 */
export function verifyBundle(
  bundle: unknown,
  options: { readonly verifierKeys: readonly (string | NoteVerifier)[]; readonly origin?: string },
): BundleVerification {
  const parsed = ProofBundleSchema.safeParse(bundle);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `not a proof bundle: ${i.path.join(".") || "(root)"}: ${i.message}`) };
  }
  const b = parsed.data;
  const problems: string[] = [];
  const origin = options.origin ?? ledgerOrigin(b.ledger);
  const verifiers = options.verifierKeys.map((key) => (typeof key === "string" ? parseVerifierKey(key) : key));
  const opened = openSealedLine(b.record);
  if (!opened.ok) problems.push(`the record is not a sealed record: ${opened.reason}`);
  else {
    if (sha256Hex(opened.recordBytes) !== opened.claimedHash) problems.push("the record's bytes do not hash to its stored hash");
    if (opened.envelope.seq !== b.seq) problems.push(`the record is seq ${opened.envelope.seq}, not seq ${b.seq}`);
    if (opened.envelope.ledger !== b.ledger) problems.push(`the record belongs to ledger "${opened.envelope.ledger}", not "${b.ledger}"`);
  }
  const checkpoint = openCheckpoint(b.checkpoint, verifiers, origin);
  if (!checkpoint.ok) problems.push(`the checkpoint does not verify: ${checkpoint.reason}`);
  else if (checkpoint.checkpoint.size !== b.treeSize)
    problems.push(`the proof is for tree size ${b.treeSize}, the checkpoint's is ${checkpoint.checkpoint.size}`);
  const decode = (proof: readonly string[]): Digest[] | undefined => {
    const nodes = proof.map(fromBase64);
    return nodes.every((n) => n?.length === 32) ? (nodes as Digest[]) : undefined;
  };
  const path = decode(b.inclusionProof);
  if (!path) problems.push("the inclusion proof holds something other than base64 SHA-256 hashes");
  if (opened.ok && checkpoint.ok && path && problems.length === 0) {
    if (!verifyInclusion(b.seq - 1, b.treeSize, recordLeaf(opened.claimedHash), path, checkpoint.checkpoint.rootHash)) {
      problems.push(`the inclusion proof does not place the record at seq ${b.seq} in the signed tree of ${b.treeSize} records`);
    }
  }
  let older: VerifiedCheckpoint | undefined;
  if (b.consistency) {
    const openedOlder = openCheckpoint(b.consistency.checkpoint, verifiers, origin);
    const proof = decode(b.consistency.proof);
    if (!openedOlder.ok) problems.push(`the older checkpoint does not verify: ${openedOlder.reason}`);
    else if (!proof) problems.push("the consistency proof holds something other than base64 SHA-256 hashes");
    else if (checkpoint.ok) {
      older = openedOlder.checkpoint;
      const { size: oldSize, rootHash: oldRoot } = openedOlder.checkpoint;
      if (!verifyConsistency(oldSize, b.treeSize, proof, oldRoot, checkpoint.checkpoint.rootHash)) {
        problems.push(`the consistency proof does not show the tree of ${oldSize} records is a prefix of the tree of ${b.treeSize}`);
      }
    }
  }
  if (problems.length > 0 || !opened.ok || !checkpoint.ok) return { ok: false, problems };
  const summary = (c: VerifiedCheckpoint) => ({ origin: c.origin, size: c.size, signedBy: c.signedBy });
  return {
    ok: true,
    ledger: b.ledger,
    seq: b.seq,
    envelope: opened.envelope,
    checkpoint: summary(checkpoint.checkpoint),
    ...(older ? { older: summary(older) } : {}),
  };
}
