// Automatic checkpoints of a ledger: the Merkle tree's right edge (O(log n) state, kept only when
// checkpoints are signed) and when the next signed checkpoint is due.
import { ledgerOrigin, signCheckpoint } from "../proof/checkpoint.ts";
import { MerkleFrontier, recordLeaf } from "../proof/merkle.ts";
import { type NoteSigner, toBase64 } from "../proof/note.ts";
import type { Clock } from "../system.ts";

/**
 * Automatic checkpoints: after an append that takes the log across a multiple of `everyRecords`
 * records (1,000 by default), or the first append `everyMs` after the last checkpoint, the ledger
 * signs a checkpoint of its head and hands it to `publish`, which keeps it apart from the records
 * (a directory, another bucket, a transparency service). A failed publish never fails the command
 * that appended: `onError` hears of it, and the next append that is due tries again.
 */
export interface AutomaticCheckpoints {
  readonly signers: readonly NoteSigner[];
  readonly everyRecords?: number;
  readonly everyMs?: number;
  /** The origin line; defaults to `opsledger/<fleetId>`. */
  readonly origin?: string;
  publish(note: string, checkpoint: { readonly size: number; readonly rootHash: string }): Promise<void>;
  onError?(error: unknown): void;
}

/** One ledger's checkpoint schedule; without `config` it keeps nothing and publishes nothing. */
export class CheckpointSchedule {
  #tree = MerkleFrontier.EMPTY;
  // the last checkpoint this instance published, or the head it started writing at
  #published: { size: number; at: number } | undefined;
  readonly #everyRecords: number;
  readonly config: AutomaticCheckpoints | undefined;
  readonly #fleetId: string;
  readonly #clock: Clock;

  constructor(config: AutomaticCheckpoints | undefined, fleetId: string, clock: Clock) {
    this.config = config;
    this.#fleetId = fleetId;
    this.#clock = clock;
    this.#everyRecords = config?.everyRecords ?? 1000;
  }

  /** The frontier to keep in a snapshot: only when checkpoints are signed. */
  get frontier(): MerkleFrontier | undefined {
    return this.config ? this.#tree : undefined;
  }

  /** Starts from a snapshot's frontier. */
  restore(tree: MerkleFrontier): void {
    this.#tree = tree;
  }

  /** Adds a folded record. */
  grow(hash: string): void {
    if (this.config) this.#tree = this.#tree.append(recordLeaf(hash));
  }

  /** Before this instance's first append: the first checkpoint is due at the first boundary after the head it found. */
  startWriting(): void {
    if (this.config) this.#published ??= { size: this.#tree.size, at: this.#clock.now().getTime() };
  }

  /** Signs and publishes a checkpoint of the head when one is due; a failure goes to `onError`, never to the caller. */
  async publishIfDue(): Promise<void> {
    const config = this.config;
    const published = this.#published;
    if (!config || !published) return;
    const tree = this.#tree;
    const now = this.#clock.now().getTime();
    const crossed = Math.floor(tree.size / this.#everyRecords) > Math.floor(published.size / this.#everyRecords);
    const late = config.everyMs !== undefined && tree.size > published.size && now - published.at >= config.everyMs;
    if (!crossed && !late) return;
    const root = tree.root();
    const checkpoint = { size: tree.size, rootHash: toBase64(root) };
    try {
      const origin = config.origin ?? ledgerOrigin(this.#fleetId);
      const note = await signCheckpoint({ origin, size: checkpoint.size, rootHash: root }, config.signers);
      await config.publish(note, checkpoint);
      this.#published = { size: checkpoint.size, at: now };
    } catch (error) {
      config.onError?.(error);
    }
  }
}
