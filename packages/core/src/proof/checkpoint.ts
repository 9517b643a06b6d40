// Checkpoints in the C2SP tlog-checkpoint format (c2sp.org/tlog-checkpoint): a signed note whose
// text is the log's origin, its tree size and the base64 Merkle root at that size.
import type { Digest } from "./merkle.ts";
import { fromBase64, type NoteSigner, type NoteVerifier, openNote, signNote, toBase64 } from "./note.ts";

/** A tree head: the log named by `origin` had `size` records whose Merkle root is `rootHash`. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Digest;
}

/** A checkpoint whose note verified with a trusted key. */
export interface VerifiedCheckpoint extends Checkpoint {
  /** The signed note, verbatim. */
  readonly note: string;
  /** Verifier keys whose signatures verified. */
  readonly signedBy: readonly string[];
}

/** The origin line of a ledger's checkpoints unless one is chosen: `opsledger/<fleet id>`. */
export const ledgerOrigin = (fleetId: string): string => `opsledger/${fleetId}`;

/** The note text of a checkpoint. */
export function checkpointText(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.size}\n${toBase64(checkpoint.rootHash)}\n`;
}

/** Reads a checkpoint's note text; extension lines are allowed and ignored, as the format says. */
export function parseCheckpointText(text: string): Checkpoint | { readonly problem: string } {
  const lines = text.split("\n");
  const [origin, size, root] = lines;
  if (lines.length < 4 || lines[lines.length - 1] !== "")
    return { problem: "a checkpoint has at least three lines, each ending in a newline" };
  if (!origin) return { problem: "the checkpoint's origin line is empty" };
  if (!/^(?:0|[1-9][0-9]*)$/.test(size ?? "") || !Number.isSafeInteger(Number(size))) {
    return { problem: `the checkpoint's tree size ${JSON.stringify(size)} is not a decimal number` };
  }
  const rootHash = fromBase64(root ?? "");
  if (rootHash?.length !== 32) return { problem: "the checkpoint's root hash is not base64 of 32 bytes" };
  if (lines.slice(3, -1).some((line) => line === "")) return { problem: "a checkpoint's extension lines must be non-empty" };
  return { origin, size: Number(size), rootHash };
}

/** The checkpoint a note holds, without checking its signatures (for one the verifier itself remembered). */
export function readCheckpointNote(note: string): Checkpoint | undefined {
  const split = note.lastIndexOf("\n\n");
  const parsed = split < 0 ? undefined : parseCheckpointText(note.slice(0, split + 1));
  return parsed && !("problem" in parsed) ? parsed : undefined;
}

/** Signs a checkpoint with every signer (the log's key name should match the origin). */
export function signCheckpoint(checkpoint: Checkpoint, signers: readonly NoteSigner[]): Promise<string> {
  return signNote(checkpointText(checkpoint), signers);
}

/**
 * Opens a signed checkpoint: the note must verify with a trusted key, its text must be a
 * checkpoint, and, when `origin` is given, name that log.
 */
export function openCheckpoint(
  note: string,
  verifiers: readonly NoteVerifier[],
  origin?: string,
): { readonly ok: true; readonly checkpoint: VerifiedCheckpoint } | { readonly ok: false; readonly reason: string } {
  const opened = openNote(note, verifiers);
  if (!opened.ok) return opened;
  const parsed = parseCheckpointText(opened.text);
  if ("problem" in parsed) return { ok: false, reason: parsed.problem };
  if (origin !== undefined && parsed.origin !== origin) {
    return { ok: false, reason: `the checkpoint is for ${JSON.stringify(parsed.origin)}, not ${JSON.stringify(origin)}` };
  }
  return { ok: true, checkpoint: { ...parsed, note, signedBy: opened.signedBy } };
}
