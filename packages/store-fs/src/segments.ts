import { open, readdir } from "node:fs/promises";
import { join } from "node:path";

/** Segment files are named by their first seq, zero-padded so name order is seq order. */
export const SEGMENT_DIGITS = 20;
export const SEGMENT_SUFFIX = ".ndjson";
const SEGMENT_NAME = /^(\d{20})\.ndjson$/;

export const segmentName = (firstSeq: number): string => `${String(firstSeq).padStart(SEGMENT_DIGITS, "0")}${SEGMENT_SUFFIX}`;

/** The segments of a stream directory, in seq order (empty when the directory does not exist). */
export async function listSegments(dir: string): Promise<{ firstSeq: number; name: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const segments: { firstSeq: number; name: string }[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match) segments.push({ firstSeq: Number(match[1]), name });
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

/** One line of a segment and the byte offset it starts at. */
export interface SegmentLine {
  readonly line: string;
  readonly offset: number;
}

const CHUNK = 1 << 20;

/**
 * Streams the complete lines of a segment file in 1 MiB chunks (never the whole file in memory),
 * from byte `start`, a chunk's worth of lines at a time. A last line without its newline is
 * reported through `onTornTail`, not yielded.
 */
export async function* readSegmentChunks(
  path: string,
  start = 0,
  onTornTail?: (offset: number, bytes: number) => void,
): AsyncGenerator<SegmentLine[]> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer | null = null;
    let position = start;
    let carryOffset = start;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let chunk = buffer.subarray(0, bytesRead);
      if (carry) {
        chunk = Buffer.concat([carry, chunk]);
        carry = null;
      }
      const lines: SegmentLine[] = [];
      let lineStart = 0;
      for (;;) {
        const newline = chunk.indexOf(10, lineStart);
        if (newline === -1) break;
        lines.push({ line: chunk.toString("utf8", lineStart, newline), offset: carryOffset + lineStart });
        lineStart = newline + 1;
      }
      if (lines.length > 0) yield lines;
      if (lineStart < chunk.length) {
        carry = Buffer.from(chunk.subarray(lineStart));
        carryOffset += lineStart;
      } else {
        carryOffset += chunk.length;
      }
    }
    if (carry && carry.length > 0) onTornTail?.(carryOffset, carry.length);
  } finally {
    await handle.close();
  }
}

/** The complete lines of a segment one by one (see `readSegmentChunks`). */
export async function* readSegmentLines(
  path: string,
  start = 0,
  onTornTail?: (offset: number, bytes: number) => void,
): AsyncGenerator<SegmentLine> {
  for await (const lines of readSegmentChunks(path, start, onTornTail)) yield* lines;
}

/** Joins a stream directory with a segment name. */
export const segmentPath = (dir: string, name: string): string => join(dir, name);
