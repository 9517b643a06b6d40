import { createHash, createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkpointText, ledgerOrigin, openCheckpoint, parseCheckpointText, signCheckpoint } from "./checkpoint.ts";
import { MerkleFrontier, recordLeaf } from "./merkle.ts";
import { InvalidKeyError, noteSigner, openNote, parseSignerKey, parseVerifierKey, signingKeyFromSeed, signNote } from "./note.ts";

// The example key and note of the Go reference implementation (golang.org/x/mod/sumdb/note)
const GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
// the example of an earlier revision of c2sp.org/signed-note
const SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE =
  "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

/**
 * A verifier written from the text of c2sp.org/signed-note and tlog-checkpoint alone, with
 * node:crypto and nothing of ours: the checkpoints we sign must pass it. Any third-party verifier
 * (Go's note.Open, a shell-out to a tool) can be dropped in with this signature.
 */
type ThirdPartyVerifier = (note: string, verifierKey: string) => { origin: string; size: number; root: string } | undefined;
const specVerifier: ThirdPartyVerifier = (note, verifierKey) => {
  const [name, idHex, keyB64] = verifierKey.split("+") as [string, string, string];
  const key = Buffer.from(keyB64, "base64");
  if (key[0] !== 0x01 || key.length !== 33) return undefined;
  const publicKey = key.subarray(1);
  const id = createHash("sha256")
    .update(`${name}\n`)
    .update(Buffer.from([0x01]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
  if (id.toString("hex") !== idHex) return undefined;
  const split = note.lastIndexOf("\n\n");
  const text = note.slice(0, split + 1);
  const spki = createPublicKey({
    key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]),
    format: "der",
    type: "spki",
  });
  const verified = note
    .slice(split + 2, -1)
    .split("\n")
    .some((line) => {
      const [dash, signer, sig] = line.split(" ");
      const bytes = Buffer.from(sig ?? "", "base64");
      return (
        dash === "\u2014" && signer === name && bytes.subarray(0, 4).equals(id) && verify(null, Buffer.from(text), spki, bytes.subarray(4))
      );
    });
  const [origin, size, root] = text.split("\n");
  return verified ? { origin: origin as string, size: Number(size), root: root as string } : undefined;
};

describe("signed notes (c2sp.org/signed-note, Ed25519)", () => {
  it("matches the Go reference implementation's key, key ID and signature byte for byte", async () => {
    const signer = parseSignerKey(GO_SKEY);
    expect(signer.name).toBe("PeterNeumann");
    expect(signer.keyId.toString(16)).toBe("c74f20a3");
    expect(signer.verifierKey).toBe(GO_VKEY);
    expect(await signNote(GO_TEXT, [signer])).toBe(GO_NOTE);
    expect(openNote(GO_NOTE, [parseVerifierKey(GO_VKEY)])).toEqual({ ok: true, text: GO_TEXT, signedBy: [GO_VKEY] });
    expect(openNote(SPEC_NOTE, [parseVerifierKey(SPEC_VKEY)])).toMatchObject({ ok: true, text: "This is an example message.\n" });
  });

  it("rejects an altered text, an altered signature, and a note no trusted key signed", () => {
    const verifier = parseVerifierKey(GO_VKEY);
    expect(openNote(GO_NOTE.replace("problem,", "problem;"), [verifier])).toEqual({
      ok: false,
      reason: "the signature of PeterNeumann does not verify",
    });
    expect(openNote(GO_NOTE.replace("x08go", "x08gp"), [verifier])).toMatchObject({ ok: false });
    expect(openNote(GO_NOTE, [parseVerifierKey(SPEC_VKEY)])).toEqual({ ok: false, reason: "no trusted key signed it" });
    expect(openNote(GO_NOTE.replace("\n\n", "\n"), [verifier])).toMatchObject({ ok: false });
    expect(openNote(`${GO_NOTE.slice(0, -1)}\u0007\n`, [verifier])).toMatchObject({ ok: false });
  });

  it("ignores signatures of unknown keys, even one sharing a name or an ID with a trusted key", async () => {
    const other = signingKeyFromSeed("PeterNeumann", new Uint8Array(32).fill(9));
    const both = await signNote(GO_TEXT, [parseSignerKey(other.signerKey), parseSignerKey(GO_SKEY)]);
    expect(openNote(both, [parseVerifierKey(GO_VKEY)])).toMatchObject({ ok: true, signedBy: [GO_VKEY] });
  });

  it("refuses mangled keys, and a signer key where a verifier key belongs", () => {
    for (let cut = 1; cut < GO_VKEY.length; cut++) expect(() => parseVerifierKey(GO_VKEY.slice(0, cut))).toThrow(InvalidKeyError);
    for (let at = 0; at < GO_VKEY.length; at++) {
      const code = GO_VKEY.charCodeAt(at);
      const mangled = GO_VKEY.slice(0, at) + String.fromCharCode(code === 43 ? 44 : code + 1) + GO_VKEY.slice(at + 1);
      if (mangled.startsWith("PeterNeumann")) expect(() => parseVerifierKey(mangled), mangled).toThrow(InvalidKeyError);
    }
    expect(() => parseVerifierKey(GO_SKEY)).toThrow(/must stay secret/);
    expect(() => parseSignerKey(GO_VKEY)).toThrow(InvalidKeyError);
    expect(() => signingKeyFromSeed("has space", new Uint8Array(32))).toThrow(InvalidKeyError);
  });

  it("signs through any Ed25519 function, as a KMS would hold the key", async () => {
    const { signerKey, verifierKey } = signingKeyFromSeed("kms.example/fleet", new Uint8Array(32).fill(3));
    const local = parseSignerKey(signerKey);
    const publicKey = new Uint8Array(Buffer.from(verifierKey.split("+")[2] as string, "base64").subarray(1));
    const remote = noteSigner("kms.example/fleet", publicKey, async (bytes) => local.sign(bytes));
    expect(await signNote("hello\n", [remote])).toBe(await signNote("hello\n", [local]));
  });
});

describe("checkpoints (c2sp.org/tlog-checkpoint)", () => {
  const seed = new Uint8Array(32).fill(7);
  const { signerKey, verifierKey } = signingKeyFromSeed(ledgerOrigin("default"), seed);
  let frontier = MerkleFrontier.EMPTY;
  for (let i = 0; i < 5; i++) frontier = frontier.append(recordLeaf(createHash("sha256").update(`r${i}`).digest("hex")));
  const checkpoint = { origin: ledgerOrigin("default"), size: frontier.size, rootHash: frontier.root() };

  it("is the origin, the decimal size and the base64 root, each on its own line", () => {
    const text = checkpointText(checkpoint);
    expect(text).toBe(`opsledger/default\n5\n${Buffer.from(frontier.root()).toString("base64")}\n`);
    expect(parseCheckpointText(text)).toEqual(checkpoint);
    expect(parseCheckpointText(`${text}ext\n`)).toEqual(checkpoint);
    expect(parseCheckpointText(text.replace("\n5\n", "\n05\n"))).toHaveProperty("problem");
    expect(parseCheckpointText(text.replace("\n5\n", "\n\n"))).toHaveProperty("problem");
  });

  it("verifies with a verifier written from the specifications alone", async () => {
    const note = await signCheckpoint(checkpoint, [parseSignerKey(signerKey)]);
    expect(specVerifier(note, verifierKey)).toEqual({
      origin: "opsledger/default",
      size: 5,
      root: Buffer.from(frontier.root()).toString("base64"),
    });
    expect(specVerifier(note.replace("\n5\n", "\n6\n"), verifierKey)).toBeUndefined();
  });

  it("opens only for a trusted key and the expected origin", async () => {
    const note = await signCheckpoint(checkpoint, [parseSignerKey(signerKey)]);
    const verifier = parseVerifierKey(verifierKey);
    expect(openCheckpoint(note, [verifier], "opsledger/default")).toMatchObject({ ok: true, checkpoint: { size: 5, note } });
    expect(openCheckpoint(note, [verifier], "opsledger/other")).toEqual({
      ok: false,
      reason: 'the checkpoint is for "opsledger/default", not "opsledger/other"',
    });
    expect(openCheckpoint(note, [parseVerifierKey(GO_VKEY)])).toMatchObject({ ok: false });
  });
});
