// The Merkle tree of RFC 9162 §2.1 (the hashing of RFC 6962) over a ledger's records.
//
// Leaf i (0-based) is the record at seq i + 1, and its input is the 32 bytes of the record's
// hash (SHA-256 of its canonical bytes, the `hash` of its stored line), not the line itself: a
// proof carries the record, a verifier hashes its bytes once to the record hash and once more to
// the leaf, and a tree can be built from the hashes a store already indexes.
import { bytesHex, concatBytes, hexBytes, sha256Bytes } from "../chain/hash.ts";

/** A 32-byte SHA-256 digest. */
export type Digest = Uint8Array;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** MTH({}) = SHA-256() — the root of the empty tree. */
export const EMPTY_ROOT: Digest = sha256Bytes(new Uint8Array(0));

/** The leaf hash of an arbitrary leaf input: SHA-256(0x00 || input). */
export const hashLeaf = (input: Uint8Array): Digest => sha256Bytes(concatBytes(LEAF_PREFIX, input));

/** An interior node: SHA-256(0x01 || left || right). */
export const hashChildren = (left: Digest, right: Digest): Digest => sha256Bytes(concatBytes(NODE_PREFIX, left, right));

/** The leaf hash of a record, from its lowercase hex record hash. */
export const recordLeaf = (recordHash: string): Digest => hashLeaf(hexToBytes(recordHash));

/**
 * The right edge of a tree being built leaf by leaf, in O(log n) space: the roots of the perfect
 * subtrees the leaves so far decompose into, largest first (one per set bit of `size`). Immutable:
 * `append` returns a new frontier, so a rejected append never leaves a half-extended tree behind.
 */
export class MerkleFrontier {
  static readonly EMPTY: MerkleFrontier = new MerkleFrontier(0, []);

  /** Leaves so far. */
  readonly size: number;
  private readonly peaks: readonly Digest[];

  private constructor(size: number, peaks: readonly Digest[]) {
    this.size = size;
    this.peaks = peaks;
  }

  /** The subtree roots as lowercase hex, largest first: with `size`, all a frontier is (for snapshots). */
  peakHexes(): string[] {
    return this.peaks.map(bytesHex);
  }

  /** The frontier `peakHexes` described, or undefined when the peaks cannot be those of a tree of `size` leaves. */
  static fromPeakHexes(size: number, peaks: readonly string[]): MerkleFrontier | undefined {
    if (!Number.isSafeInteger(size) || size < 0 || !Array.isArray(peaks)) return undefined;
    let bits = 0;
    for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) bits += rest % 2;
    const digests = peaks.map((peak) => (typeof peak === "string" ? hexBytes(peak) : undefined));
    if (digests.length !== bits || digests.some((digest) => digest?.length !== 32)) return undefined;
    return new MerkleFrontier(size, digests as Digest[]);
  }

  /** The frontier after one more leaf. */
  append(leaf: Digest): MerkleFrontier {
    const peaks = [...this.peaks];
    let node = leaf;
    // every trailing 1 bit of the old size is a perfect subtree the new leaf completes a sibling of
    for (let size = this.size; size & 1; size >>>= 1) node = hashChildren(peaks.pop() as Digest, node);
    peaks.push(node);
    return new MerkleFrontier(this.size + 1, peaks);
  }

  /** The tree's root hash (RFC 9162 MTH of the leaves so far). */
  root(): Digest {
    if (this.peaks.length === 0) return EMPTY_ROOT;
    let root = this.peaks[this.peaks.length - 1] as Digest;
    for (let i = this.peaks.length - 2; i >= 0; i--) root = hashChildren(this.peaks[i] as Digest, root);
    return root;
  }
}

/** Leaf hashes by 0-based index; proofs read only the ones they need. */
export type LeafSource = (index: number) => Digest;

// the largest power of two strictly below n (n ≥ 2): RFC 9162's k
const splitPoint = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** MTH of leaves [start, end). */
export function subtreeRoot(leaves: LeafSource, start: number, end: number): Digest {
  if (end - start === 0) return EMPTY_ROOT;
  if (end - start === 1) return leaves(start);
  const k = splitPoint(end - start);
  return hashChildren(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/**
 * The inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf `index` in the tree of the first
 * `size` leaves, leaf-side first. Rehashes the subtrees beside the path: O(size) hashing.
 * @throws {RangeError} unless 0 ≤ index < size.
 */
export function inclusionProof(leaves: LeafSource, index: number, size: number): Digest[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`no leaf ${index} in a tree of size ${size}`);
  }
  const path = (m: number, start: number, end: number): Digest[] => {
    if (end - start <= 1) return [];
    const k = splitPoint(end - start);
    return m < k
      ? [...path(m, start, start + k), subtreeRoot(leaves, start + k, end)]
      : [...path(m - k, start + k, end), subtreeRoot(leaves, start, start + k)];
  };
  return path(index, 0, size);
}

/**
 * The consistency proof (RFC 9162 §2.1.4.1) that the tree of the first `oldSize` leaves is a
 * prefix of the tree of the first `newSize`. Empty when the sizes are equal or `oldSize` is 0.
 * @throws {RangeError} unless 0 ≤ oldSize ≤ newSize.
 */
export function consistencyProof(leaves: LeafSource, oldSize: number, newSize: number): Digest[] {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) {
    throw new RangeError(`no consistency proof from size ${oldSize} to size ${newSize}`);
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  // SUBPROOF(m, D[start:end], b): `complete` is true while the old tree is a complete subtree of this one
  const subproof = (m: number, start: number, end: number, complete: boolean): Digest[] => {
    const n = end - start;
    if (m === n) return complete ? [] : [subtreeRoot(leaves, start, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, start, start + k, complete), subtreeRoot(leaves, start + k, end)]
      : [...subproof(m - k, start + k, end, false), subtreeRoot(leaves, start, start + k)];
  };
  return subproof(oldSize, 0, newSize, true);
}

/** True when `proof` shows `leaf` at `index` in the tree of `size` leaves whose root is `root` (RFC 9162 §2.1.3.2). */
export function verifyInclusion(index: number, size: number, leaf: Digest, proof: readonly Digest[], root: Digest): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (![leaf, root, ...proof].every(isDigest)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) [fn, sn] = shiftToOddOrZero(fn, sn);
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * True when `proof` shows the tree of `oldSize` leaves with root `oldRoot` is a prefix of the tree
 * of `newSize` leaves with root `newRoot` (RFC 9162 §2.1.4.2).
 */
export function verifyConsistency(oldSize: number, newSize: number, proof: readonly Digest[], oldRoot: Digest, newRoot: Digest): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) return false;
  // a proof from the empty tree would say nothing, so there is none
  if (oldSize === 0) return false;
  if (oldSize === newSize) return proof.length === 0 && equalBytes(oldRoot, newRoot);
  if (proof.length === 0 || ![oldRoot, newRoot, ...proof].every(isDigest)) return false;
  // when the old tree is a complete subtree of the new one, its root is the proof's implicit first node
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Digest;
  let sr = path[0] as Digest;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) [fn, sn] = shiftToOddOrZero(fn, sn);
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}

// right-shifts both indexes together until fn is odd or 0 (RFC 9162 §2.1.3.2 step ii, §2.1.4.2 step ii)
function shiftToOddOrZero(fn: number, sn: number): [number, number] {
  while (fn % 2 === 0 && fn !== 0) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return [fn, sn];
}

const isDigest = (bytes: Uint8Array): boolean => bytes.length === 32;
const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Byte-wise equality of two digests. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytes of a lowercase hex string. @throws {RangeError} for anything else. */
export function hexToBytes(hex: string): Uint8Array {
  const bytes = hexBytes(hex);
  if (bytes === undefined) throw new RangeError("not a lowercase hex string");
  return bytes;
}
