// The key layout every store shares: a segment, batch object or snapshot is named by the seq it
// starts at (or covers), zero-padded to 20 digits (every safe integer fits) so that name order is
// seq order, then its kind's suffix: `00000000000000000001.ndjson`, `…01000.snapshot`.

/** Digits of a seq in a store's names. */
export const SEQ_DIGITS = 20;

/** Records: a segment file of the fs store, a batch object of the S3 store. */
export const RECORDS_SUFFIX = ".ndjson";
/** A snapshot of a stream's fold. */
export const SNAPSHOT_SUFFIX = ".snapshot";

/** The name of what starts at (or covers) `seq`: `<seq, 20 digits><suffix>`. */
export const seqName = (seq: number, suffix: string): string => `${String(seq).padStart(SEQ_DIGITS, "0")}${suffix}`;

const DIGITS = /^\d{20}$/;

/**
 * The seq a name made by {@link seqName} holds, or undefined for any other name. `name` may be a
 * path or an object key: only its last `20 + suffix` characters are read.
 */
export function seqOfName(name: string, suffix: string): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const digits = name.slice(name.length - suffix.length - SEQ_DIGITS, name.length - suffix.length);
  return DIGITS.test(digits) ? Number(digits) : undefined;
}

/** The seq of a name that is exactly `seqName(seq, suffix)` and nothing more: what a listing of a folder keeps. */
export function seqOfExactName(name: string, suffix: string): number | undefined {
  return name.length === SEQ_DIGITS + suffix.length ? seqOfName(name, suffix) : undefined;
}

/**
 * The name of what covers the seqs `first` to `last`: `<first, 20 digits>-<last, 20 digits><suffix>`
 * (a compacted segment object of the S3 store). Name order is still first-seq order.
 */
export const rangeName = (first: number, last: number, suffix: string): string => `${seqName(first, "")}-${seqName(last, suffix)}`;

/** The seqs a name that is exactly `rangeName(first, last, suffix)` covers, or undefined for any other name. */
export function rangeOfExactName(name: string, suffix: string): { readonly first: number; readonly last: number } | undefined {
  if (name.length !== 2 * SEQ_DIGITS + 1 + suffix.length || name[SEQ_DIGITS] !== "-" || !name.endsWith(suffix)) return undefined;
  const first = name.slice(0, SEQ_DIGITS);
  const last = name.slice(SEQ_DIGITS + 1, 2 * SEQ_DIGITS + 1);
  if (!DIGITS.test(first) || !DIGITS.test(last) || Number(first) > Number(last)) return undefined;
  return { first: Number(first), last: Number(last) };
}
