// Keys, signed checkpoints, proof bundles: the commands that anchor a log outside its store.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  type CheckpointMemory,
  createCheckpoint,
  InvalidKeyError,
  isKeyName,
  ledgerOrigin,
  type NoteSigner,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
  proveRecord,
  signingKeyFromSeed,
  verifyBundle,
} from "@opsledger/core";
import { checkpointName, isFolder, openCheckpointFolder } from "../checkpoint-folder.ts";
import { type Context, describeLocation, readJsonFile, readTextFile } from "../context.ts";
import { EXIT, RefusedError, UsageError } from "../exit-codes.ts";
import { flag, list } from "../invocation.ts";

/** The signing key of `--key FILE` (or `--signing-key FILE`), else $OPSLEDGER_SIGNING_KEY (the key text). */
async function signerFrom(context: Context, flagName: string): Promise<NoteSigner & { readonly verifierKey: string }> {
  const file = flag(context.invocation, flagName);
  const text = file === undefined ? context.io.env["OPSLEDGER_SIGNING_KEY"] : await readTextFile(context.io, file, "signing key");
  if (text === undefined || text.trim() === "") {
    throw new UsageError(`a signing key is needed: --${flagName} FILE or $OPSLEDGER_SIGNING_KEY (make one with opsledger keys generate)`);
  }
  try {
    return parseSignerKey(text);
  } catch (error) {
    throw new RefusedError(`the signing key${file ? ` ${file}` : " in $OPSLEDGER_SIGNING_KEY"} is not usable: ${(error as Error).message}`);
  }
}

/** Every `--key`: a verifier key's text, or a file holding one per line. */
async function verifiersFrom(context: Context): Promise<NoteVerifier[]> {
  const verifiers: NoteVerifier[] = [];
  for (const value of list(context.invocation, "key")) {
    const looksLikeKey = /^[^\s+]+\+[0-9a-f]{8}\+/.test(value);
    const text = looksLikeKey ? value : await readTextFile(context.io, value, "verifier key file");
    for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
      try {
        verifiers.push(parseVerifierKey(line));
      } catch (error) {
        throw new RefusedError(`--key ${looksLikeKey ? line : value}: ${(error as Error).message}`);
      }
    }
  }
  return verifiers;
}

/** Every `--checkpoint`: a file, or a folder (directory, s3://bucket/prefix) whose checkpoints of this ledger's origin are all used. */
async function checkpointsFrom(context: Context, origin: string): Promise<string[]> {
  const notes: string[] = [];
  for (const value of list(context.invocation, "checkpoint")) {
    if (!(await isFolder(value, context.io.cwd))) {
      notes.push(await readTextFile(context.io, value, "checkpoint"));
      continue;
    }
    const folder = await openCheckpointFolder(value, context.io, context.location);
    try {
      // a folder may hold several ledgers' checkpoints: only this one's are anchors for it
      const mine = await folder.notes(origin);
      if (mine.length === 0) throw new RefusedError(`no checkpoint of ${origin} in ${value}`);
      notes.push(...mine);
    } finally {
      folder.close();
    }
  }
  return notes;
}

/** Where the verifier remembers the largest checkpoint it verified of this store's ledger (trust on first use). */
function memoryFile(context: Context): string {
  const env = context.io.env;
  const base = env["OPSLEDGER_STATE_DIR"] ?? join(env["XDG_STATE_HOME"] ?? join(env["HOME"] ?? homedir(), ".local", "state"), "opsledger");
  const id = createHash("sha256")
    .update(`${describeLocation(context.location)}\n${context.fleetId}`)
    .digest("hex")
    .slice(0, 16);
  return join(resolve(context.io.cwd, base), "checkpoints", `${context.fleetId}-${id}.checkpoint`);
}

function checkpointMemory(file: string): CheckpointMemory {
  return {
    recall: () => readFile(file, "utf8").catch(() => undefined),
    async remember(note) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, note);
    },
  };
}

const originOf = (context: Context): string => ledgerOrigin(context.fleetId);

/** The options `verify` adds to a chain verification: anchors from the command line, and the verifier's memory. */
export async function anchorOptions(context: Context): Promise<{
  readonly options: {
    checkpoints: string[];
    verifierKeys: NoteVerifier[];
    expectHead?: { seq: number; hash: string };
    memory?: CheckpointMemory;
  };
  readonly memory: string | undefined;
}> {
  const verifierKeys = await verifiersFrom(context);
  const checkpoints = await checkpointsFrom(context, originOf(context));
  if (checkpoints.length > 0 && verifierKeys.length === 0)
    throw new UsageError("--checkpoint needs --key <verifier key> to check its signature");
  const head = flag(context.invocation, "expect-head");
  let expectHead: { seq: number; hash: string } | undefined;
  if (head !== undefined) {
    const match = /^([1-9][0-9]*):([0-9a-f]{64})$/.exec(head);
    if (!match) throw new UsageError(`--expect-head must be <seq>:<64 hex hash>, got ${head}`);
    expectHead = { seq: Number(match[1]), hash: match[2] as string };
  }
  // commander reads --no-remember as remember: false
  const memory = context.invocation.flags.get("remember") === false ? undefined : memoryFile(context);
  return {
    options: { checkpoints, verifierKeys, ...(expectHead ? { expectHead } : {}), ...(memory ? { memory: checkpointMemory(memory) } : {}) },
    memory,
  };
}

export async function keysGenerate(context: Context): Promise<number> {
  const name = flag(context.invocation, "name") ?? originOf(context);
  if (!isKeyName(name)) throw new UsageError(`--name must be non-empty, without spaces or "+", got ${JSON.stringify(name)}`);
  const out = flag(context.invocation, "out") as string;
  const path = resolve(context.io.cwd, out);
  let key: { signerKey: string; verifierKey: string };
  try {
    key = signingKeyFromSeed(name, randomBytes(32));
  } catch (error) {
    if (error instanceof InvalidKeyError) throw new UsageError(error.message);
    throw error;
  }
  await mkdir(dirname(path), { recursive: true });
  // never over an existing key (losing a signing key loses nothing signed, overwriting one loses the key), owner-only
  await writeFile(path, `${key.signerKey}\n`, { flag: "wx", mode: 0o600 }).catch((error: NodeJS.ErrnoException) => {
    throw new RefusedError(
      error.code === "EEXIST" ? `${out} exists: a signing key is never overwritten` : `cannot write ${out}: ${error.message}`,
    );
  });
  if (context.out.json) context.out.printJson({ ok: true, name, signingKeyFile: path, verifierKey: key.verifierKey });
  else {
    context.out.error(`wrote the signing key to ${out} (keep it secret); its verifier key, to publish:`);
    context.out.line(key.verifierKey);
  }
  return 0;
}

export async function checkpoint(context: Context): Promise<number> {
  const signer = await signerFrom(context, "key");
  const origin = originOf(context);
  const out = flag(context.invocation, "out");
  const folder =
    out !== undefined && (await isFolder(out, context.io.cwd)) ? await openCheckpointFolder(out, context.io, context.location) : undefined;
  try {
    // a log never signs a checkpoint inconsistent with one it signed before: those in the folder are anchors
    const previous = folder ? await folder.notes(origin) : [];
    const store = await context.store();
    const bar = context.out.progress("verifying the chain", await context.headSeq());
    let signed: Awaited<ReturnType<typeof createCheckpoint>>;
    try {
      signed = await createCheckpoint(store, context.fleetId, [signer], {
        origin,
        previous,
        verifierKeys: [parseVerifierKey(signer.verifierKey)],
        onProgress: (n) => bar.update(n),
      });
    } finally {
      bar.done();
    }
    let file: string | undefined;
    if (folder) file = await folder.put(checkpointName(context.fleetId, signed.size), signed.note);
    else if (out !== undefined) {
      file = resolve(context.io.cwd, out);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, signed.note);
    }
    if (context.out.json)
      context.out.printJson({
        ok: true,
        origin,
        size: signed.size,
        rootHash: signed.rootHash,
        note: signed.note,
        ...(file ? { file } : {}),
      });
    else if (file) context.out.line(`signed the checkpoint of ${origin} at size ${signed.size} (root ${signed.rootHash}) to ${file}`);
    else context.io.stdout.write(signed.note);
    return 0;
  } finally {
    folder?.close();
  }
}

export async function prove(context: Context): Promise<number> {
  const value = context.invocation.positionals[0] as string;
  const seq = Number(value);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new UsageError(`<seq> must be an integer from 1, got ${value}`);
  const origin = originOf(context);
  const out = flag(context.invocation, "out") as string;
  let verifiers = await verifiersFrom(context);
  let note: string;
  const given = flag(context.invocation, "checkpoint");
  if (given !== undefined) {
    if (verifiers.length === 0) throw new UsageError("--checkpoint needs --key <verifier key> to check its signature");
    note = await readTextFile(context.io, given, "checkpoint");
  } else {
    // no checkpoint given: sign one of the log as it is now
    const signer = await signerFrom(context, "signing-key");
    const store = await context.store();
    note = (await createCheckpoint(store, context.fleetId, [signer], { origin })).note;
    verifiers = [...verifiers, parseVerifierKey(signer.verifierKey)];
  }
  const olderFile = flag(context.invocation, "older");
  const older = olderFile === undefined ? undefined : await readTextFile(context.io, olderFile, "older checkpoint");
  const store = await context.store();
  const bar = context.out.progress("reading the tree", await context.headSeq());
  let bundle: Awaited<ReturnType<typeof proveRecord>>;
  try {
    bundle = await proveRecord(store, context.fleetId, seq, {
      checkpoint: note,
      ...(older !== undefined ? { older } : {}),
      verifierKeys: verifiers,
      origin,
      onProgress: (n) => bar.update(n),
    });
  } finally {
    bar.done();
  }
  const path = resolve(context.io.cwd, out);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(bundle, null, 2)}\n`);
  if (context.out.json)
    context.out.printJson({ ok: true, seq, treeSize: bundle.treeSize, file: path, consistency: bundle.consistency !== undefined });
  else
    context.out.line(
      `wrote the proof of seq ${seq} in the signed tree of ${bundle.treeSize} records${bundle.consistency ? ", with its consistency proof to the older checkpoint," : ""} to ${out}`,
    );
  return 0;
}

export async function verifyBundleCommand(context: Context): Promise<number> {
  const file = context.invocation.positionals[0] as string;
  const verifiers = await verifiersFrom(context);
  if (verifiers.length === 0)
    throw new UsageError("verify-bundle needs --key <verifier key>: a bundle proves only what a trusted key signed");
  const bundle = await readJsonFile(context.io, file, "proof bundle");
  const result = verifyBundle(bundle, { verifierKeys: verifiers });
  if (context.out.json) context.out.printJson(result);
  else if (result.ok) {
    const e = result.envelope;
    context.out.line(
      `${context.out.paint.green("ok")}: seq ${result.seq} (${e.type} at ${e.at}${e.actor ? ` by ${e.actor}` : ""}) is in the log ${result.checkpoint.origin} signed at size ${result.checkpoint.size} by ${result.checkpoint.signedBy.join(", ")}${result.older ? `, which extends the older checkpoint of size ${result.older.size}` : ""}`,
    );
  } else {
    context.out.line(`${context.out.paint.red("not proved")}: ${file}`);
    for (const problem of result.problems) context.out.line(`  - ${problem}`);
  }
  return result.ok ? 0 : EXIT.broken;
}
