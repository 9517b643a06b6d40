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
