// C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, and the key encodings of the
// Go reference implementation (golang.org/x/mod/sumdb/note), so keys and notes interoperate:
//   verifier key  <name>+<key id, 8 hex>+base64(0x01 || 32-byte public key)
//   signer key    PRIVATE+KEY+<name>+<key id, 8 hex>+base64(0x01 || 32-byte seed)
import { concatBytes, sha256Bytes } from "../chain/hash.ts";
import { ed25519PublicKey, ed25519Sign, ed25519Verify } from "./ed25519.ts";

const ED25519 = 0x01; // the signature type byte of c2sp.org/signed-note
const EM_DASH = "\u2014";
const utf8 = new TextEncoder();

/** Signs notes: a key file's key, or any function that signs bytes with Ed25519 (a KMS, an HSM). */
export interface NoteSigner {
  /** The key name, which a checkpoint's origin line matches. */
  readonly name: string;
  /** The 32-bit key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian. */
  readonly keyId: number;
  /** An Ed25519 signature (64 bytes) over `message`. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** Checks signatures of one trusted key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
  /** The key in verifier-key form, as it was given. */
  readonly verifierKey: string;
}

/** A key text that is not a signer or verifier key. */
export class InvalidKeyError extends Error {
  override readonly name = "InvalidKeyError";
}

/** The key ID of an Ed25519 key of this name (c2sp.org/signed-note). */
export function keyIdOf(name: string, publicKey: Uint8Array): number {
  const digest = sha256Bytes(concatBytes(utf8.encode(`${name}\n`), Uint8Array.of(ED25519), publicKey));
  return ((digest[0] as number) * 2 ** 24 + ((digest[1] as number) << 16) + ((digest[2] as number) << 8) + (digest[3] as number)) >>> 0;
}

/** Key names are non-empty, without Unicode spaces or `+` (c2sp.org/signed-note). */
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControl(name);
}

const keyIdHex = (keyId: number): string => keyId.toString(16).padStart(8, "0");

/**
 * A new signing key from 32 random bytes (the caller draws them: the core reads no randomness),
 * as the signer key to keep secret and the verifier key to publish.
 * @throws {InvalidKeyError} for a bad name or a seed that is not 32 bytes.
 */
export function signingKeyFromSeed(name: string, seed: Uint8Array): { readonly signerKey: string; readonly verifierKey: string } {
  if (!isKeyName(name)) throw new InvalidKeyError(`key name ${JSON.stringify(name)} must be non-empty, without spaces or "+"`);
  if (seed.length !== 32) throw new InvalidKeyError("an Ed25519 seed is 32 bytes");
  const publicKey = ed25519PublicKey(seed);
  const id = keyIdHex(keyIdOf(name, publicKey));
  return {
    signerKey: `PRIVATE+KEY+${name}+${id}+${toBase64(concatBytes(Uint8Array.of(ED25519), seed))}`,
    verifierKey: `${name}+${id}+${toBase64(concatBytes(Uint8Array.of(ED25519), publicKey))}`,
  };
}

// name+id+key, the id checked against the key
function parseKey(text: string, what: string): { name: string; keyId: number; key: Uint8Array } {
  // base64 holds "+" too: the name and the ID are the first two fields
  const [name, id] = text.split("+", 2);
  const encoded = text.slice((name?.length ?? 0) + (id?.length ?? 0) + 2);
  if (name === undefined || !isKeyName(name) || !/^[0-9a-f]{8}$/.test(id ?? "") || text[name.length + 9] !== "+") {
    throw new InvalidKeyError(`not ${what} (expected <name>+<8 hex digits>+<base64 key>)`);
  }
  const bytes = fromBase64(encoded ?? "");
  if (bytes === undefined || bytes.length !== 33 || bytes[0] !== ED25519)
    throw new InvalidKeyError(`not ${what}: the key is not an Ed25519 key`);
  return { name, keyId: Number.parseInt(id as string, 16), key: bytes.subarray(1) };
}

/** A signer from a signer key (`PRIVATE+KEY+…`). @throws {InvalidKeyError} */
export function parseSignerKey(text: string): NoteSigner & { readonly verifierKey: string } {
  const trimmed = text.trim();
  if (!trimmed.startsWith("PRIVATE+KEY+")) throw new InvalidKeyError("not a signer key (expected PRIVATE+KEY+<name>+<id>+<key>)");
  const { name, keyId, key: seed } = parseKey(trimmed.slice("PRIVATE+KEY+".length), "a signer key");
  const publicKey = ed25519PublicKey(seed);
  if (keyIdOf(name, publicKey) !== keyId) throw new InvalidKeyError("not a signer key: its key ID does not match its key");
  return {
    name,
    keyId,
    sign: ed25519Sign(seed),
    verifierKey: `${name}+${keyIdHex(keyId)}+${toBase64(concatBytes(Uint8Array.of(ED25519), publicKey))}`,
  };
}

/** A verifier from a verifier key (`<name>+<id>+<key>`). @throws {InvalidKeyError} */
export function parseVerifierKey(text: string): NoteVerifier {
  const trimmed = text.trim();
  if (trimmed.startsWith("PRIVATE+KEY+")) throw new InvalidKeyError("that is a signer key, which must stay secret: pass its verifier key");
  const { name, keyId, key } = parseKey(trimmed, "a verifier key");
  if (keyIdOf(name, key) !== keyId) throw new InvalidKeyError("not a verifier key: its key ID does not match its key");
  return { name, keyId, verify: ed25519Verify(key), verifierKey: trimmed };
}

/**
 * A signer over any Ed25519 signing function, such as a KMS call; `publicKey` (32 bytes) names the key.
 * @throws {InvalidKeyError} for a bad name or key length.
 */
export function noteSigner(
  name: string,
  publicKey: Uint8Array,
  sign: (message: Uint8Array) => Uint8Array | Promise<Uint8Array>,
): NoteSigner {
  if (!isKeyName(name)) throw new InvalidKeyError(`key name ${JSON.stringify(name)} must be non-empty, without spaces or "+"`);
  if (publicKey.length !== 32) throw new InvalidKeyError("an Ed25519 public key is 32 bytes");
  return { name, keyId: keyIdOf(name, publicKey), sign };
}

// control characters other than newline, which notes must not hold (written out: a lint rule forbids them in a regex literal)
const hasControl = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
};

/**
 * Signs `text` (which must end in a newline) with every signer: the signed note.
 * @throws {RangeError} for text a note cannot hold.
 */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  if (!text.endsWith("\n") || hasControl(text)) throw new RangeError("note text must end with a newline and hold no control characters");
  if (signers.length === 0) throw new RangeError("a note needs at least one signer");
  const message = utf8.encode(text);
  let signatures = "";
  for (const signer of signers) {
    const signature = await signer.sign(message);
    if (signature.length !== 64) throw new RangeError(`signer ${signer.name} returned ${signature.length} bytes, not an Ed25519 signature`);
    const id = Uint8Array.of(signer.keyId >>> 24, (signer.keyId >>> 16) & 255, (signer.keyId >>> 8) & 255, signer.keyId & 255);
    signatures += `${EM_DASH} ${signer.name} ${toBase64(concatBytes(id, signature))}\n`;
  }
  return `${text}\n${signatures}`;
}

/** What opening a note found: its text and who signed it, or why it cannot be trusted. */
export type OpenedNote =
  | { readonly ok: true; readonly text: string; readonly signedBy: readonly string[] }
  | { readonly ok: false; readonly reason: string };

const MAX_SIGNATURES = 100;

/**
 * Opens a signed note as c2sp.org/signed-note says: signatures of unknown keys are ignored, a
 * signature of a known key must verify, and at least one known key must have signed.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  if (hasControl(note) || note.includes("\uFFFD")) return { ok: false, reason: "not a note: it holds control characters or invalid UTF-8" };
  if (!note.endsWith("\n")) return { ok: false, reason: "not a note: it does not end with a newline" };
  const split = note.lastIndexOf("\n\n");
  if (split < 0) return { ok: false, reason: "not a note: no blank line before the signatures" };
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) return { ok: false, reason: `not a note: more than ${MAX_SIGNATURES} signatures` };
  const message = utf8.encode(text);
  const signedBy: string[] = [];
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    const bytes = match ? fromBase64(match[2] as string) : undefined;
    if (!match || bytes === undefined || bytes.length < 5) return { ok: false, reason: "not a note: a malformed signature line" };
    const name = match[1] as string;
    const keyId =
      ((bytes[0] as number) * 2 ** 24 + ((bytes[1] as number) << 16) + ((bytes[2] as number) << 8) + (bytes[3] as number)) >>> 0;
    const verifier = verifiers.find((v) => v.name === name && v.keyId === keyId);
    if (!verifier) continue; // an unknown key, even one that shares a name or an ID
    if (!verifier.verify(message, bytes.subarray(4))) return { ok: false, reason: `the signature of ${name} does not verify` };
    if (!signedBy.includes(verifier.verifierKey)) signedBy.push(verifier.verifierKey);
  }
  if (signedBy.length === 0) return { ok: false, reason: "no trusted key signed it" };
  return { ok: true, text, signedBy };
}

/** Standard base64 (RFC 4648 §4) of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Bytes of standard, padded base64; undefined for anything else. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
