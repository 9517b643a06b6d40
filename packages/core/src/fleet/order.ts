/**
 * Orders strings by Unicode code point, as jq does (and unlike `<` on JS strings, which compares
 * UTF-16 units and puts U+FFFF after astral characters). Same answer on every machine and locale.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // below the surrogate range UTF-16 order is code-point order; otherwise compare whole code points
    if ((x < 0xd800 && y < 0xd800) || (x > 0xdfff && y > 0xdfff && x <= 0xffff && y <= 0xffff)) return x - y;
    return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
  }
  return a.length - b.length;
}

/** Sorted (code-point order), duplicates removed: the shape of every reason-code array. */
export function sortedUnique(values: Iterable<string>): string[] {
  const array = Array.isArray(values) ? (values as string[]) : [...values];
  // most reason lists hold zero or one code: skip the set and the sort
  if (array.length < 2) return array.slice();
  if (array.length <= 8) return smallSortedUnique(array);
  const unique = [...new Set(array)];
  return allBelowSurrogates(unique) ? unique.sort() : unique.sort(compareCodePoints);
}

// true when no string holds a surrogate, so plain `<` (UTF-16 order) is code-point order
const SURROGATE = /[\uD800-\uDFFF]/;
export const allBelowSurrogates = (values: Iterable<string>): boolean => {
  for (const value of values) if (SURROGATE.test(value)) return false;
  return true;
};

// insertion sort without duplicates, for the short lists reason codes come in
function smallSortedUnique(array: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of array) {
    let i = out.length;
    while (i > 0 && compareCodePoints(out[i - 1] as string, value) > 0) i--;
    if (i > 0 && out[i - 1] === value) continue;
    out.splice(i, 0, value);
  }
  return out;
}

/** Counts one more `key` in `counts` (keys in first-occurrence order). */
export const tally = (counts: Record<string, number>, key: string, times = 1): void => {
  counts[key] = (counts[key] ?? 0) + times;
};

/**
 * How often each reason code occurs over items' reason lists, counted once per distinct list:
 * evaluations and plans share their lists between candidates, so 20k candidates hold a handful.
 * Keys come in first-occurrence order, as counting item by item would give them.
 */
export function countReasons(items: Iterable<{ readonly reasons: readonly string[] }>): Record<string, number> {
  const lists = new Map<readonly string[], number>();
  for (const { reasons } of items) lists.set(reasons, (lists.get(reasons) ?? 0) + 1);
  const counts: Record<string, number> = {};
  for (const [reasons, times] of lists) for (const reason of reasons) tally(counts, reason, times);
  return counts;
}
