// The one module of the core that touches node: (OpenSSL's SHA-256 is several times faster than
// a pure-JS hash, which matters when verifying large logs). `hash` is the one-shot digest (Node
// ≥ 20.12; we require 20.19): on record-sized input it is about twice as fast as createHash.
import { hash } from "node:crypto";

/** Lowercase hex SHA-256 of a string's UTF-8 bytes. */
export const sha256Hex = (text: string): string => hash("sha256", text, "hex");

/** The first 8 bytes of SHA-256(text) as an unsigned integer (a bigint, it exceeds 2^53). */
export function sha256Prefix64(text: string): bigint {
  const digest = digestBytes(text);
  return (BigInt(word(digest, 0)) << 32n) | BigInt(word(digest, 4));
}

/**
 * The same 64-bit prefix modulo `modulus` (< 2^21), in plain numbers: (hi·2^32 + lo) mod m from the
 * two 32-bit halves, all below 2^53. Cohort buckets need only this, and BigInt costs more than the hash.
 */
export function sha256Prefix64Mod(text: string, modulus: number): number {
  const digest = digestBytes(text);
  const high = word(digest, 0);
  const low = word(digest, 4);
  return ((high % modulus) * (TWO_POW_32 % modulus) + (low % modulus)) % modulus;
}
const TWO_POW_32 = 2 ** 32;
// "binary" (latin1): one character per digest byte, and no Buffer to allocate
const digestBytes = (text: string): string => hash("sha256", text, "binary");
const word = (bytes: string, at: number): number =>
  ((bytes.charCodeAt(at) << 24) | (bytes.charCodeAt(at + 1) << 16) | (bytes.charCodeAt(at + 2) << 8) | bytes.charCodeAt(at + 3)) >>> 0;

/** `prevHash` of the first record of every ledger. */
export const GENESIS_HASH: string = "0".repeat(64);

/** SHA-256 of bytes, as bytes (the Merkle tree and signed notes work on binary digests). */
export function sha256Bytes(bytes: Uint8Array): Uint8Array {
  const digest = hash("sha256", bytes, "buffer");
  // a plain Uint8Array view, so digests compare equal whatever made them
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}

/** The bytes of several arrays one after another. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Lowercase hex of bytes (a digest). */
export const bytesHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");

/** Bytes of a lowercase hex string (a record hash); undefined for anything else. */
export function hexBytes(hex: string): Uint8Array | undefined {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) return undefined;
  const bytes = Buffer.from(hex, "hex");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
