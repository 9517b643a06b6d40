// Compaction's plan, pure: which segment objects a reader uses, and which batches the next
// segment takes. A segment object holds the lines of consecutive whole batches, `first` to `last`;
// it is a cache of the batches (which stay the log), written once with If-None-Match.

/** A segment object: its key and the seqs it covers. */
export interface SegmentRange {
  readonly key: string;
  readonly first: number;
  readonly last: number;
}

/**
 * The segments a reader uses: from seq 1 on, each starting right after the one before; where two
 * start at the same seq (two compactors raced), the longer. Segments off the chain are ignored.
 */
export function segmentChain(ranges: readonly SegmentRange[]): SegmentRange[] {
  const longestFrom = new Map<number, SegmentRange>();
  for (const range of ranges) {
    const known = longestFrom.get(range.first);
    if (!known || range.last > known.last) longestFrom.set(range.first, range);
  }
  const chain: SegmentRange[] = [];
  for (let next = longestFrom.get(1); next; next = longestFrom.get(next.last + 1)) chain.push(next);
  return chain;
}

/**
 * The next segment after seq `after`: whole batches from `after + 1` on (their first seqs, in
 * order, are `batchStarts`), at least `records` records, ending where a batch ends. A batch ends
 * where the next one starts, so the last batch listed is never taken: at least one batch always
 * follows the segments, and a reader's link check from the last segment's last record to it (a
 * record of the log itself) is what shows that the segments hold the log's records, unaltered.
 * Undefined while fewer records are complete, or when the batches do not start right after `after`.
 */
export function nextSegment(
  after: number,
  batchStarts: readonly number[],
  records: number,
): { readonly first: number; readonly last: number; readonly batches: number } | undefined {
  if (batchStarts[0] !== after + 1) return undefined;
  for (let next = 1; next < batchStarts.length; next++) {
    const last = (batchStarts[next] as number) - 1;
    if (last - after >= records) return { first: after + 1, last, batches: next };
  }
  return undefined;
}
