// The honest tamper campaign: mutations applied in place to real stores (a filesystem store of
// several segments, an S3 store on s3rver over HTTP), verified against the heads those stores
// report, then against a signed checkpoint kept apart. Every outcome must be a report (never an
// exception), with exactly the breaks the mutation made, the first at the exact seq.
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  type ChainBreak,
  createCheckpoint,
  type Envelope,
  type EventStore,
  GENESIS_HASH,
  parseSignerKey,
  type SealedRecord,
  seal,
  signingKeyFromSeed,
  verifyLog,
} from "@opsledger/core";
import { openSealedLine } from "@opsledger/core/store";
import { seededRandom } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { createS3EventStore } from "@opsledger/store-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3rverHarness, startS3rver } from "../s3/s3rver-harness.mjs";

const LEDGER = "audit";
const LENGTH = 120;
// the sizes checkpoints of the original log are signed at
const SIZES = [60, 100, LENGTH];
const KEY = signingKeyFromSeed("opsledger/audit", new Uint8Array(32).fill(5));
const SIGNER = parseSignerKey(KEY.signerKey);

/** The log as the store holds it: objects (segment files, batch objects) of lines, in order. */
interface Layout {
  readonly names: readonly string[];
  readonly lines: readonly (readonly string[])[];
}
/** A store under test: its layout, writes of a changed layout, and a fresh instance to verify with. */
interface Subject {
  readonly original: Layout;
  write(layout: Layout, previous?: Layout): Promise<void>;
  open(): EventStore;
}

function sealed(seq: number, prevHash: string, salt = "o"): SealedRecord {
  const at = new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString();
  return seal({ v: 1, ledger: LEDGER, seq, id: `${salt}-${seq}`, type: "Probe", at, data: { seq, salt, note: "ünïcode" }, prevHash });
}

// a record's data edited and the record re-sealed: a correct hash, and a correct prevHash when `prevHash` is given
function reseal(line: string, prevHash?: string): SealedRecord {
  const opened = openSealedLine(line);
  if (!opened.ok) throw new Error("test log is broken");
  const envelope: Envelope<unknown> = { ...opened.envelope, data: { edited: true }, prevHash: prevHash ?? opened.envelope.prevHash };
  return seal(envelope);
}

type Kind = "flip" | "delete" | "duplicate" | "swap" | "rehash" | "truncate" | "rollback" | "forge" | "rewrite";
const KINDS: readonly Kind[] = ["flip", "delete", "duplicate", "swap", "rehash", "truncate", "rollback", "forge", "rewrite"];
const FLIP_CHARACTERS = '0123456789abcdefxyzAZ{}[]",:- é\\';

/** A stored line and the object (segment file, batch object) it is in: mutations happen in place, object by object. */
interface Entry {
  readonly line: string;
  readonly object: number;
}

interface Mutation {
  readonly kind: Kind;
  readonly entries: Entry[];
  /** The chain break verification must report without an anchor, or undefined for an undetectable mutation. */
  readonly chainBreak: Pick<ChainBreak, "seq" | "kind"> | undefined;
}

/**
 * One mutation of the log, in place, as someone who can write the store would make it: a deleted
 * line leaves its object shorter, a duplicate lands in the object of the line before it, forged
 * records go into the last object. Undefined when the draw changes nothing.
 */
function mutate(original: readonly Entry[], draw: () => number): Mutation | undefined {
  const n = original.length;
  const entries = [...original];
  const pick = (min: number, max: number) => min + Math.floor(draw() * (max - min + 1));
  const lineAt = (seq: number) => (entries[seq - 1] as Entry).line;
  const replace = (seq: number, line: string) => {
    entries[seq - 1] = { line, object: (entries[seq - 1] as Entry).object };
  };
  const kind = KINDS[pick(0, KINDS.length - 1)] as Kind;
  switch (kind) {
    case "flip": {
      const seq = pick(1, n);
      const line = lineAt(seq);
      const offset = pick(0, line.length - 1);
      const replacement = FLIP_CHARACTERS[pick(0, FLIP_CHARACTERS.length - 1)] as string;
      if (line[offset] === replacement) return undefined;
      replace(seq, line.slice(0, offset) + replacement + line.slice(offset + 1));
      return { kind, entries, chainBreak: { seq, kind: openSealedLine(lineAt(seq)).ok ? "hash_mismatch" : "malformed" } };
    }
    case "delete": {
      const seq = pick(1, n);
      entries.splice(seq - 1, 1);
      return { kind, entries, chainBreak: seq < n ? { seq, kind: "gap" } : undefined };
    }
    case "duplicate": {
      const seq = pick(1, n);
      const after = pick(seq, n);
      entries.splice(after, 0, { line: lineAt(seq), object: (entries[after - 1] as Entry).object });
      return { kind, entries, chainBreak: { seq: after + 1, kind: "out_of_order" } };
    }
    case "swap": {
      const seq = pick(1, n - 1);
      const [a, b] = [lineAt(seq), lineAt(seq + 1)];
      replace(seq, b);
      replace(seq + 1, a);
      return { kind, entries, chainBreak: { seq, kind: "out_of_order" } };
    }
    case "rehash": {
      const seq = pick(1, n);
      replace(seq, reseal(lineAt(seq)).line);
      return { kind, entries, chainBreak: seq < n ? { seq, kind: "broken_link" } : undefined };
    }
    case "truncate": // the last 1, 5 or 100 records cut
      return { kind, entries: entries.slice(0, n - ([1, 5, 100][pick(0, 2)] as number)), chainBreak: undefined };
    case "rollback": // an older copy of the log put back
      return { kind, entries: entries.slice(0, pick(1, n - 1)), chainBreak: undefined };
    case "forge": {
      // records appended with correct prevHashes and hashes, by someone who can write the store
      let prevHash = (openSealedLine(lineAt(n)) as { claimedHash: string }).claimedHash;
      const object = (entries[n - 1] as Entry).object;
      for (let seq = n + 1; seq <= n + pick(1, 3); seq++) {
        const record = sealed(seq, prevHash, "forged");
        entries.push({ line: record.line, object });
        prevHash = record.hash;
      }
      return { kind, entries, chainBreak: undefined };
    }
    case "rewrite": {
      // every record from a random seq on edited and re-hashed, the chain kept whole
      const from = pick(1, n);
      let prevHash = from === 1 ? GENESIS_HASH : (openSealedLine(lineAt(from - 1)) as { claimedHash: string }).claimedHash;
      for (let seq = from; seq <= n; seq++) {
        const record = reseal(lineAt(seq), prevHash);
        replace(seq, record.line);
        prevHash = record.hash;
      }
      return { kind, entries, chainBreak: undefined };
    }
  }
}

// the entries back into the store's objects; objects left empty are removed
function layoutOf(original: Layout, entries: readonly Entry[]): Layout {
  const names: string[] = [];
  const lines: string[][] = [];
  for (const [index, name] of original.names.entries()) {
    const held = entries.filter((e) => e.object === index).map((e) => e.line);
    if (held.length > 0) {
      names.push(name);
      lines.push(held);
    }
  }
  return { names, lines };
}

const entriesOf = (layout: Layout): Entry[] => layout.lines.flatMap((lines, object) => lines.map((line) => ({ line, object })));

const firstDifference = (a: readonly string[], b: readonly string[]): number => {
  let i = 0;
  while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
  return i + 1;
};

const pairs = (breaks: readonly ChainBreak[]) => breaks.map((b) => [b.seq, b.kind]);

interface Tally {
  trials: number;
  detected: number;
  undetectedByKind: Map<string, number>;
  anchoredRequired: number;
  anchoredDetected: number;
  byKind: Map<string, number>;
}

/** Runs `trials` mutations on a subject; checks every outcome; returns the tally. */
async function campaign(subject: Subject, trials: number, seed: number): Promise<Tally> {
  const original = entriesOf(subject.original);
  const flat = original.map((e) => e.line);
  expect(flat).toHaveLength(LENGTH);
  // checkpoints of the original log at three sizes, signed once, kept apart from the store
  const checkpoints = new Map<number, string>();
  for (const size of SIZES) {
    await subject.write(layoutOf(subject.original, original.slice(0, size)));
    const store = subject.open();
    checkpoints.set(size, (await createCheckpoint(store, LEDGER, [SIGNER])).note);
    await store.close();
  }
  await subject.write(subject.original);
  const tally: Tally = { trials: 0, detected: 0, undetectedByKind: new Map(), anchoredRequired: 0, anchoredDetected: 0, byKind: new Map() };
  const draw = seededRandom(seed);
  while (tally.trials < trials) {
    const mutation = mutate(original, draw);
    if (!mutation) continue;
    const trial = `trial ${tally.trials} (${mutation.kind})`;
    tally.trials++;
    tally.byKind.set(mutation.kind, (tally.byKind.get(mutation.kind) ?? 0) + 1);
    const layout = layoutOf(subject.original, mutation.entries);
    const lines = mutation.entries.map((e) => e.line);
    await subject.write(layout);
    const size = SIZES[Math.floor(draw() * SIZES.length)] as number;
    const store = subject.open();
    try {
      // against the store's own head: exactly the break the mutation made, at the exact seq
      const plain = await verifyLog(store, LEDGER);
      expect(pairs(plain.breaks), trial).toEqual(mutation.chainBreak ? [[mutation.chainBreak.seq, mutation.chainBreak.kind]] : []);
      if (mutation.chainBreak) tally.detected++;
      else tally.undetectedByKind.set(mutation.kind, (tally.undetectedByKind.get(mutation.kind) ?? 0) + 1);

      // against a signed checkpoint: every mutation at or below its size is caught
      const anchored = await verifyLog(store, LEDGER, { checkpoints: [checkpoints.get(size) as string], verifierKeys: [KEY.verifierKey] });
      const touched = firstDifference(flat, lines);
      const required = touched <= size;
      if (mutation.chainBreak) expect(pairs(anchored.breaks), trial).toEqual(pairs(plain.breaks));
      else if (lines.length < size) {
        expect(pairs(anchored.breaks), trial).toEqual([[lines.length + 1, "truncated_below_checkpoint"]]);
      } else if (required) {
        expect(
          anchored.breaks.map((b) => b.kind),
          trial,
        ).toEqual(["inconsistent_with_checkpoint"]);
        expect(anchored.breaks[0]?.seq, trial).toBeLessThanOrEqual(touched);
      } else expect(anchored.breaks, trial).toEqual([]);
      if (required) {
        tally.anchoredRequired++;
        if (!anchored.ok) tally.anchoredDetected++;
      }
    } finally {
      await store.close();
    }
    await subject.write(subject.original, layout);
  }
  return tally;
}

/** Runs the campaign in `lanes` copies of the store at once (their I/O overlaps), and adds up the tallies. */
async function lanes(count: number, make: (lane: number) => Promise<Subject>, trials: number, seed: number): Promise<Tally> {
  const subjects = await Promise.all(Array.from({ length: count }, (_, lane) => make(lane)));
  const tallies = await Promise.all(subjects.map((subject, lane) => campaign(subject, Math.ceil(trials / count), seed + lane)));
  const sum = (key: "trials" | "detected" | "anchoredRequired" | "anchoredDetected") => tallies.reduce((n, t) => n + t[key], 0);
  const merge = (key: "undetectedByKind" | "byKind") => {
    const merged = new Map<string, number>();
    for (const t of tallies) for (const [kind, n] of t[key]) merged.set(kind, (merged.get(kind) ?? 0) + n);
    return merged;
  };
  return {
    trials: sum("trials"),
    detected: sum("detected"),
    anchoredRequired: sum("anchoredRequired"),
    anchoredDetected: sum("anchoredDetected"),
    undetectedByKind: merge("undetectedByKind"),
    byKind: merge("byKind"),
  };
}

function describeTally(store: string, tally: Tally): string {
  const undetected = [...tally.undetectedByKind].map(([kind, count]) => `${kind} ${count}`).join(", ");
  const percent = (a: number, b: number) => `${((100 * a) / b).toFixed(2)} %`;
  return (
    `tamper campaign on ${store}: ${tally.trials} mutations (${[...tally.byKind].map(([k, c]) => `${k} ${c}`).join(", ")}); ` +
    `without an anchor ${tally.detected} detected (${percent(tally.detected, tally.trials)}), every one at the exact seq, ` +
    `undetectable by kind: ${undetected}; with a checkpoint ${tally.anchoredDetected} of ${tally.anchoredRequired} mutations at or below it detected (${percent(tally.anchoredDetected, tally.anchoredRequired)})`
  );
}

/** The original log in a filesystem store of six segment files (120 records in batches of 5, segments of ~5 kB). */
async function fsSubject(dir: string): Promise<Subject> {
  const writer = createFsEventStore({ dir, segmentBytes: 5_000 });
  for (const records of batches(5)) await writer.append({ streamId: LEDGER, expectedSeq: records[0].seq - 1, records });
  await writer.close();
  const streamDir = join(dir, LEDGER);
  const names = (await readdir(streamDir)).filter((n) => n.endsWith(".ndjson")).sort();
  expect(names.length).toBeGreaterThanOrEqual(5);
  const lines = await Promise.all(names.map(async (n) => (await readFile(join(streamDir, n), "utf8")).slice(0, -1).split("\n")));
  const original: Layout = { names, lines };
  return {
    original,
    async write(layout, previous) {
      const before = previous ?? { names: original.names, lines: [] };
      for (const name of before.names) if (!layout.names.includes(name)) await unlink(join(streamDir, name)).catch(() => undefined);
      for (const [index, name] of layout.names.entries()) {
        const text = (layout.lines[index] as string[]).join("\n");
        const at = before.names.indexOf(name);
        if (at < 0 || (before.lines[at] as string[] | undefined)?.join("\n") !== text) await writeFile(join(streamDir, name), `${text}\n`);
      }
    },
    open: () => createFsEventStore({ dir }),
  };
}

/** The original log in an S3 store of six batch objects (batches of 20) under `prefix`. */
async function s3Subject(s3: S3rverHarness, prefix: string): Promise<Subject> {
  const client: S3Client = s3.client();
  const writer = createS3EventStore({ client, bucket: s3.bucket, prefix });
  for (const records of batches(20)) await writer.append({ streamId: LEDGER, expectedSeq: records[0].seq - 1, records });
  await writer.close();
  const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/${LEDGER}/` }));
  const names = (listed.Contents ?? []).map((o) => o.Key as string).sort();
  expect(names).toHaveLength(6);
  const lines = await Promise.all(
    names.map(async (Key) => {
      const body = await (await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key }))).Body?.transformToString("utf-8");
      return (body ?? "").slice(0, -1).split("\n");
    }),
  );
  const original: Layout = { names, lines };
  return {
    original,
    async write(layout, previous) {
      const before = previous ?? { names: original.names, lines: [] };
      for (const Key of before.names)
        if (!layout.names.includes(Key)) await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key }));
      for (const [index, Key] of layout.names.entries()) {
        const text = (layout.lines[index] as string[]).join("\n");
        const at = before.names.indexOf(Key);
        if (at < 0 || (before.lines[at] as string[] | undefined)?.join("\n") !== text) {
          await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: `${text}\n` }));
        }
      }
    },
    open: () => createS3EventStore({ client, bucket: s3.bucket, prefix }),
  };
}

/** The original log's records, sealed, in appends of `size`. */
function batches(size: number): [SealedRecord, ...SealedRecord[]][] {
  const out: [SealedRecord, ...SealedRecord[]][] = [];
  let prevHash = GENESIS_HASH;
  for (let first = 1; first <= LENGTH; first += size) {
    const records: SealedRecord[] = [];
    for (let seq = first; seq < first + size; seq++) {
      records.push(sealed(seq, prevHash));
      prevHash = (records.at(-1) as SealedRecord).hash;
    }
    out.push(records as [SealedRecord, ...SealedRecord[]]);
  }
  return out;
}

describe("the tamper campaign on real stores, against the heads they report", () => {
  const trials = Number(process.env["OPSLEDGER_TAMPER_TRIALS"] ?? 10_000);

  it("filesystem store, six segments: every mutation reported, at the exact seq; a checkpoint catches all at or below it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-tamper-"));
    try {
      const tally = await lanes(4, (lane) => fsSubject(join(dir, `lane-${lane}`)), trials, 20261202);
      expect(tally.trials).toBeGreaterThanOrEqual(trials);
      expect(tally.anchoredDetected).toBe(tally.anchoredRequired);
      for (const kind of KINDS) expect(tally.byKind.get(kind) ?? 0, kind).toBeGreaterThan(trials / 20);
      console.info(describeTally("fs (6 segments)", tally));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);

  describe("S3 store on s3rver", () => {
    let s3: S3rverHarness;
    beforeAll(async () => {
      s3 = await startS3rver();
    });
    afterAll(async () => {
      await s3?.stop();
    });

    it("batch objects overwritten or deleted: every mutation reported; a checkpoint catches all at or below it", async () => {
      const tally = await lanes(4, (lane) => s3Subject(s3, `tamper-${lane}`), Math.max(4, Math.round(trials / 40)), 20261203);
      expect(tally.anchoredDetected).toBe(tally.anchoredRequired);
      console.info(describeTally("s3 (6 batch objects)", tally));
    }, 600_000);
  });
});
