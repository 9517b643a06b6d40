import { join } from "node:path";
import { RECORDS_SUFFIX, sealedLineHead, seqName, seqOfExactName } from "@opsledger/core/store";
import type { FileHandleOps, FileOps } from "./file-ops.ts";

/** Segment files are named by their first seq (the key layout every store shares), so name order is seq order. */
export const segmentName = (firstSeq: number): string => seqName(firstSeq, RECORDS_SUFFIX);

/** A segment file that is a symbolic link: the store never follows one out of its directory. */
export class LinkedSegmentError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path} is a symbolic link: the store does not follow links out of its directory`);
    this.path = path;
  }
}

/**
 * The segments of a stream directory, in seq order (empty when the directory does not exist).
 * @throws {LinkedSegmentError} when a segment name (or the directory) is a symbolic link.
 */
export async function listSegments(ops: FileOps, dir: string): Promise<{ firstSeq: number; name: string }[]> {
  let entries: Awaited<ReturnType<FileOps["readdir"]>>;
  try {
    if ((await ops.stat(dir)).kind === "symlink") throw new LinkedSegmentError(dir);
    entries = await ops.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const segments: { firstSeq: number; name: string }[] = [];
  for (const { name, kind } of entries) {
    const firstSeq = seqOfExactName(name, RECORDS_SUFFIX);
    if (firstSeq === undefined) continue;
    if (kind === "symlink") throw new LinkedSegmentError(join(dir, name));
    segments.push({ firstSeq, name });
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
 * from byte `from.offset` (a line start), a chunk's worth of lines at a time. A line longer than a chunk is gathered
 * from its parts once its newline arrives, so reading costs time linear in the line's length. A
 * last line without its newline is reported through `onUnterminated` (with the number of complete
 * lines before it), not yielded. The first `from.skipLines` lines are counted, not decoded.
 */
export async function* readSegmentChunks(
  ops: FileOps,
  path: string,
  from: { readonly offset: number; readonly skipLines: number } = { offset: 0, skipLines: 0 },
  onUnterminated?: (offset: number, bytes: Buffer, completeLines: number) => void,
): AsyncGenerator<SegmentLine[]> {
  const handle = await ops.open(path, "read");
  try {
    let position = from.offset;
    let skipping = from.skipLines;
    let complete = 0;
    let parts: Buffer[] = []; // the start of a line that has no newline yet
    let partsBytes = 0;
    let lineOffset = from.offset;
    // one buffer for the whole read: lines leave it as strings, an unfinished line as a copy
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const bytesRead = await handle.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      const lines: SegmentLine[] = [];
      let lineStart = 0;
      for (;;) {
        const newline = chunk.indexOf(10, lineStart);
        if (newline === -1) break;
        complete++;
        if (skipping > 0) {
          skipping--;
          parts = [];
          partsBytes = 0;
        } else if (parts.length > 0) {
          parts.push(chunk.subarray(0, newline));
          lines.push({ line: Buffer.concat(parts, partsBytes + newline).toString("utf8"), offset: lineOffset });
          parts = [];
          partsBytes = 0;
        } else {
          lines.push({ line: chunk.toString("utf8", lineStart, newline), offset: position + lineStart });
        }
        lineStart = newline + 1;
        lineOffset = position + lineStart;
      }
      if (lineStart < chunk.length) {
        parts.push(Buffer.from(chunk.subarray(lineStart)));
        partsBytes += chunk.length - lineStart;
      }
      position += bytesRead;
      if (lines.length > 0) yield lines;
    }
    if (partsBytes > 0) onUnterminated?.(lineOffset, Buffer.concat(parts, partsBytes), complete);
  } finally {
    await handle.close();
  }
}

const PROBE_BYTES = 64 * 1024;

/**
 * Where to start reading a segment for record `seq`: a line start at or before it and the seq its
 * line holds, found by bisecting the file's byte offsets on the lines' own seqs, so a read from
 * the middle of a segment costs a few small reads instead of a scan of every line before it. The
 * search narrows to one chunk and the caller counts lines from there. A probe that finds no
 * readable line, or seqs out of order (damage), narrows as if it had overshot, so the answer is
 * always a line start at or before the record, at worst the segment's start.
 */
export async function seekLine(ops: FileOps, path: string, firstSeq: number, seq: number): Promise<{ offset: number; seq: number }> {
  const handle = await ops.open(path, "read");
  try {
    let low = { offset: 0, seq: firstSeq };
    let high = await handle.size();
    while (high - low.offset > CHUNK) {
      const middle = low.offset + Math.floor((high - low.offset) / 2);
      const probe = await lineAfter(handle, middle);
      if (!probe || probe.seq <= low.seq || probe.seq > seq || probe.offset >= high) {
        high = middle;
        continue;
      }
      low = probe;
      if (probe.seq === seq) break;
    }
    return low;
  } finally {
    await handle.close();
  }
}

// the first whole line starting after byte `position` and the seq it holds, if it is a sealed record
async function lineAfter(handle: FileHandleOps, position: number): Promise<{ offset: number; seq: number } | undefined> {
  const bytes = await readAt(handle, position, PROBE_BYTES);
  const start = bytes.indexOf(10) + 1;
  const end = start === 0 ? -1 : bytes.indexOf(10, start);
  if (end === -1) return undefined;
  const head = sealedLineHead(bytes.toString("utf8", start, end));
  return head && { offset: position + start, seq: head.seq };
}

/** What ends a segment: its last complete line, and any bytes after its last newline. */
export interface SegmentEnd {
  /** The last line that ends with a newline, or undefined when there is none. */
  readonly lastLine: SegmentLine | undefined;
  /** Bytes after the last newline (a torn write, or a record that lost its newline). */
  readonly trailing: { readonly offset: number; readonly bytes: Buffer } | undefined;
}

const TAIL_CHUNK = 64 * 1024;

/**
 * Reads the end of a segment backwards, in growing chunks from its last byte, until the last
 * complete line is found: a bounded read whatever the segment's size (only a record longer than
 * the first chunk costs more, in proportion to its own length).
 */
export async function readSegmentEnd(ops: FileOps, path: string): Promise<SegmentEnd & { readonly size: number }> {
  const handle = await ops.open(path, "read");
  try {
    const size = await handle.size();
    let window = Math.min(size, TAIL_CHUNK);
    for (;;) {
      const from = size - window;
      const bytes = await readAt(handle, from, window);
      const lastNewline = bytes.lastIndexOf(10);
      const trailing =
        lastNewline === bytes.length - 1 ? undefined : { offset: from + lastNewline + 1, bytes: bytes.subarray(lastNewline + 1) };
      if (lastNewline !== -1) {
        const previous = lastNewline === 0 ? -1 : bytes.lastIndexOf(10, lastNewline - 1);
        if (previous !== -1 || from === 0) {
          const lineStart = previous + 1;
          return { size, lastLine: { line: bytes.toString("utf8", lineStart, lastNewline), offset: from + lineStart }, trailing };
        }
      } else if (from === 0) {
        return { size, lastLine: undefined, trailing: size === 0 ? undefined : { offset: 0, bytes } };
      }
      window = Math.min(size, window * 2);
    }
  } finally {
    await handle.close();
  }
}

async function readAt(handle: FileHandleOps, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const n = await handle.read(buffer, filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}

/** Appends all of `bytes`, looping over short writes; a write that makes no progress is an error. */
export async function writeFully(handle: FileHandleOps, bytes: Buffer): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const n = await handle.write(bytes.subarray(written));
    if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    written += n;
  }
}
