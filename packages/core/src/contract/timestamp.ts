// ISO-8601 UTC, seconds precision with optional milliseconds: 2026-02-23T00:00:00Z, 2026-02-23T00:00:00.123Z.
// (The reference accepted only the first form; every timestamp it wrote still parses.)
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/;

/** Milliseconds since the epoch of an ISO-8601 UTC timestamp, or undefined when it is not one (or not a real date). */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = ISO_UTC.exec(value);
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((match[7] ?? "").padEnd(3, "0"));
  const time = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const date = new Date(time);
  // Date.UTC rolls 2026-02-30 over into March: refuse what does not round-trip
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return undefined;
  }
  return time;
}

/** True for an ISO-8601 UTC timestamp opsledger accepts. */
export const isTimestamp = (value: unknown): value is string => parseTimestamp(value) !== undefined;

// How jq 1.6's fromdateiso8601 reads a timestamp: glibc strptime("%Y-%m-%dT%H:%M:%SZ") then
// timegm. Blanks before a field, unpadded fields, second 60/61 and day 31 of any month pass and
// roll over; after the Z only blank-led text may follow.
const JQ_ISO = /^\s*(\d{1,4})-\s*(\d{1,2})-\s*(\d{1,2})T\s*(\d{1,2}):\s*(\d{1,2}):\s*(\d{1,2})Z(?:\s[\s\S]*)?$/;

/**
 * The instant the reference reads in a timestamp, or undefined where jq 1.6 refuses it. opsledger
 * refuses such values (semantics §2 row 26); this is only so that the ordering and freshness
 * messages the reference prints for them are among ours.
 */
export function referenceTimestamp(value: unknown): number | undefined {
  const strict = parseTimestamp(value);
  if (strict !== undefined || typeof value !== "string") return strict;
  const match = JQ_ISO.exec(value);
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 61) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which reads years 0–99 as 1900–1999
  date.setUTCHours(h, mi, s);
  return date.getTime();
}
