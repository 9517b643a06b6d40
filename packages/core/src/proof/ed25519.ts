// Ed25519 through node:crypto (OpenSSL), on raw 32-byte keys as RFC 8032 and signed notes encode
// them. With chain/hash.ts, the only modules of the core that touch node:.
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

// DER prefixes that wrap a raw Ed25519 seed (PKCS #8) and public key (SPKI), RFC 8410
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

const der = (prefix: Uint8Array, raw: Uint8Array): Uint8Array => {
  const out = new Uint8Array(prefix.length + raw.length);
  out.set(prefix);
  out.set(raw, prefix.length);
  return out;
};

/** A private key from its 32-byte seed. */
const privateKeyOf = (seed: Uint8Array): KeyObject =>
  createPrivateKey({ key: der(PKCS8_PREFIX, seed) as never, format: "der", type: "pkcs8" });

/** The 32-byte public key of a 32-byte seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyOf(seed)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** A signing function over the 32-byte seed; the key object is made once. */
export function ed25519Sign(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  const key = privateKeyOf(seed);
  return (message) => new Uint8Array(sign(null, message, key));
}

/** A verifying function over the 32-byte public key; the key object is made once. */
export function ed25519Verify(publicKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean {
  const key = createPublicKey({ key: der(SPKI_PREFIX, publicKey) as never, format: "der", type: "spki" });
  return (message, signature) => signature.length === 64 && verify(null, message, key, signature);
}
