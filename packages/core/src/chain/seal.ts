import type { SealedRecord } from "../store/event-store.ts";
import { canonicalJson, type JsonValue } from "./canonical-json.ts";
import { sha256Hex } from "./hash.ts";

/** Version of the envelope format below. */
export const ENVELOPE_VERSION = 1 as const;

/**
 * One fact of a ledger before sealing. `seq` is 1-based and gapless, `id` comes from the injected
 * id generator, `at` from the injected clock (ISO-8601 UTC with milliseconds), `prevHash` is the
 * hash of the previous record (64 zeros for the first).
 */
export interface Envelope<Data = JsonValue> {
  readonly v: typeof ENVELOPE_VERSION;
  readonly ledger: string;
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  readonly at: string;
  readonly traceId?: string;
  readonly actor?: string;
  readonly data: Data;
  readonly prevHash: string;
}

// The stored line is canonical JSON of { hash, record }: `{"hash":"<64 hex>","record":<envelope>}`.
// The envelope's canonical bytes sit verbatim at a fixed offset, so the hashed bytes are exactly
// the stored bytes of the record and a verifier slices them out instead of re-serializing.
const LINE_HEAD = '{"hash":"';
const RECORD_KEY = '","record":';
const HASH_START = LINE_HEAD.length;
const HASH_END = HASH_START + 64;
const RECORD_START = HASH_END + RECORD_KEY.length;

/**
 * Seals an envelope: canonical bytes, SHA-256 over them, and the stored line.
 * @throws {InvalidValueError} when the envelope holds a value canonical JSON would mangle.
 * @example
 * const record = seal({ v: 1, ledger: "default", seq: 1, id, type: "LedgerCreated", at, data, prevHash: GENESIS_HASH });
 */
export function seal(envelope: Envelope<unknown>): SealedRecord {
  const bytes = canonicalJson(envelope);
  const hash = sha256Hex(bytes);
  return { seq: envelope.seq, hash, line: `${LINE_HEAD}${hash}${RECORD_KEY}${bytes}}` };
}

/** What a stored line holds, as far as it can be read: the claimed hash, the record bytes, the parsed envelope. */
export type OpenedLine =
  | { readonly ok: true; readonly claimedHash: string; readonly recordBytes: string; readonly envelope: Envelope }
  | { readonly ok: false; readonly reason: string };

const HEX64 = /^[0-9a-f]{64}$/;

/** Reads a stored line without trusting it: the shape is checked, the hash is not (see `verifyLog`). */
export function openSealedLine(line: string): OpenedLine {
  if (!line.startsWith(LINE_HEAD) || line.slice(HASH_END, RECORD_START) !== RECORD_KEY || !line.endsWith("}")) {
    return { ok: false, reason: "not a sealed line" };
  }
  // not checked for hex here: a claimed hash that is not the bytes' hex digest is a hash_mismatch
  const claimedHash = line.slice(HASH_START, HASH_END);
  const recordBytes = line.slice(RECORD_START, -1);
  let envelope: unknown;
  try {
    envelope = JSON.parse(recordBytes);
  } catch {
    return { ok: false, reason: "record is not valid JSON" };
  }
  const problem = envelopeProblem(envelope);
  if (problem !== undefined) return { ok: false, reason: problem };
  return { ok: true, claimedHash, recordBytes, envelope: envelope as Envelope };
}

/** The hash a stored line claims, without parsing it (for adapters recovering their head). */
export function sealedLineHash(line: string): string | undefined {
  const hash = line.slice(HASH_START, HASH_END);
  return line.startsWith(LINE_HEAD) && HEX64.test(hash) ? hash : undefined;
}

const ENVELOPE_KEYS = new Set(["v", "ledger", "seq", "id", "type", "at", "traceId", "actor", "data", "prevHash"]);

// hand-written rather than zod: it runs once per record on every verified replay
function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "record is not an object";
  const e = value as Record<string, unknown>;
  for (const key of Object.keys(e)) if (!ENVELOPE_KEYS.has(key)) return `unexpected envelope field "${key}"`;
  if (e["v"] !== ENVELOPE_VERSION) return `unsupported envelope version ${JSON.stringify(e["v"])}`;
  if (!Number.isSafeInteger(e["seq"]) || (e["seq"] as number) < 1) return "seq is not a positive integer";
  for (const key of ["ledger", "id", "type", "at"] as const) {
    if (typeof e[key] !== "string" || e[key] === "") return `${key} is not a non-empty string`;
  }
  for (const key of ["traceId", "actor"] as const) {
    if (key in e && typeof e[key] !== "string") return `${key} is not a string`;
  }
  // a prevHash that is not a hash never equals the previous record's: the link check reports it
  if (typeof e["prevHash"] !== "string" || e["prevHash"].length !== 64) return "prevHash is not a 64-character hash";
  if (!("data" in e)) return "data is missing";
  return undefined;
}

/**
 * The position a stored line holds, when it is a whole sealed record whose bytes hash to its
 * claimed hash; undefined for anything else (a torn write, garbage). For adapters telling a record
 * that only lacks its newline from a torn tail.
 */
export function sealedLineHead(line: string): { readonly seq: number; readonly hash: string } | undefined {
  const opened = openSealedLine(line);
  if (!opened.ok || sha256Hex(opened.recordBytes) !== opened.claimedHash) return undefined;
  return { seq: opened.envelope.seq, hash: opened.claimedHash };
}
