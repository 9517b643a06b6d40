// The one module of the core that touches node: (OpenSSL's SHA-256 is several times faster than
// a pure-JS hash, which matters when verifying large logs).
import { createHash } from "node:crypto";

/** Lowercase hex SHA-256 of a string's UTF-8 bytes. */
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The first 8 bytes of SHA-256(text) as an unsigned integer (a bigint, it exceeds 2^53). */
export const sha256Prefix64 = (text: string): bigint => createHash("sha256").update(text, "utf8").digest().readBigUInt64BE(0);

/** `prevHash` of the first record of every ledger. */
export const GENESIS_HASH: string = "0".repeat(64);
