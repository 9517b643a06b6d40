// keys generate, checkpoint, verify against anchors, prove and verify-bundle, end to end through
// the built binary, on a filesystem store and on S3 (s3rver), with the stores tampered for real.
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3rverHarness, startS3rver } from "../s3/s3rver-harness.mjs";
import { fixtures, opsledger } from "./run.ts";

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "opsledger-proof-"));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** A fleet with a policy, an observation, an evaluation and an autonomous dispatch: seven records. */
async function populate(store: string[], env: Record<string, string> = {}): Promise<void> {
  const run = (args: string[]) => opsledger([...args, ...store, "--json"], { cwd, env });
  expect((await run(["registry", "apply", join(fixtures, "registry.v1.json")])).code).toBe(0);
  expect((await run(["observe", join(fixtures, "state.json")])).code).toBe(0);
  expect((await run(["evaluate"])).code).toBe(0);
  expect((await run(["dispatch", "--autonomous", "--control", join(fixtures, "control-confirm.sh")])).code).toBe(0);
}

async function generateKey(name: string): Promise<{ keyFile: string; vkey: string }> {
  const keyFile = join(cwd, `${name}.key`);
  const made = await opsledger(["keys", "generate", "--out", keyFile, "--json"], { cwd });
  expect(made.code).toBe(0);
  expect(made.json.verifierKey).toMatch(/^opsledger\/default\+[0-9a-f]{8}\+/);
  return { keyFile, vkey: made.json.verifierKey };
}

describe("anchoring a log outside its store (fs)", () => {
  it("keys generate writes an owner-only key it never overwrites, and prints the verifier key", async () => {
    const { keyFile, vkey } = await generateKey("never-twice");
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyFile, "utf8")).toMatch(/^PRIVATE\+KEY\+opsledger\/default\+[0-9a-f]{8}\+/);
    const again = await opsledger(["keys", "generate", "--out", keyFile], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("a signing key is never overwritten");
    const text = await opsledger(["keys", "generate", "--out", join(cwd, "plain.key")], { cwd });
    expect(text.stdout.trim()).toMatch(/^opsledger\/default\+[0-9a-f]{8}\+\S+$/);
    expect(vkey).not.toBe(text.stdout.trim());
  });

  it("catches a cut tail and a rewritten record against a checkpoint, a bare head, and what it remembered", async () => {
    const dir = join(cwd, `fs-${randomUUID()}`);
    const store = ["--store", dir];
    await populate(store);
    const { keyFile, vkey } = await generateKey(`fs-${randomUUID()}`);
    const checkpoints = join(cwd, `checkpoints-${randomUUID()}`);
    const signed = await opsledger(["checkpoint", "--key", keyFile, "--out", `${checkpoints}/`, "--json", ...store], { cwd });
    expect(signed.code).toBe(0);
    expect(signed.json).toMatchObject({ ok: true, origin: "opsledger/default", size: 7 });
    expect(await readdir(checkpoints)).toEqual(["default-00000000000000000007.checkpoint"]);
    const clean = await opsledger(["verify", "--checkpoint", checkpoints, "--key", vkey, "--json", ...store], { cwd });
    expect(clean.code).toBe(0);
    expect(clean.json.anchors).toEqual([{ kind: "checkpoint", size: 7, consistent: true }]);
    const head = clean.json.head as { seq: number; hash: string };

    // someone who can write the store cuts the last two records
    const segment = join(dir, "default", "00000000000000000001.ndjson");
    const original = await readFile(segment, "utf8");
    await writeFile(segment, `${original.split("\n").slice(0, 5).join("\n")}\n`);
    expect((await opsledger(["verify", "--no-remember", ...store], { cwd })).code, "a cut log verifies clean alone").toBe(0);
    const cut = await opsledger(["verify", "--checkpoint", checkpoints, "--key", vkey, "--json", ...store], { cwd });
    expect(cut.code).toBe(3);
    expect(cut.json.breaks).toEqual([expect.objectContaining({ seq: 6, kind: "truncated_below_checkpoint" })]);
    const bare = await opsledger(["verify", "--expect-head", `${head.seq}:${head.hash}`, "--no-remember", "--json", ...store], { cwd });
    expect(bare.code).toBe(3);
    expect(bare.json.breaks).toEqual([expect.objectContaining({ seq: 6, kind: "truncated_below_checkpoint" })]);
    // nor is a proof made against a log that lost what the checkpoint signed
    const checkpointFile = join(checkpoints, "default-00000000000000000007.checkpoint");
    const unproved = await opsledger(
      ["prove", "2", "--checkpoint", checkpointFile, "--key", vkey, "--out", join(cwd, "x.json"), "--json", ...store],
      { cwd },
    );
    expect(unproved.code).toBe(3);
    expect(unproved.json.breaks).toEqual([expect.objectContaining({ seq: 6, kind: "truncated_below_checkpoint" })]);
    // no file passed: the verifier remembers the checkpoint it verified (trust on first use)
    const remembered = await opsledger(["verify", ...store], { cwd });
    expect(remembered.code).toBe(3);
    expect(remembered.stdout).toContain("seq 6 truncated_below_checkpoint");
    expect(remembered.stderr).toContain("if the log was replaced on purpose, remove that file");

    // the last record edited and re-hashed: the chain is whole, the checkpoint is not
    const lines = original.trimEnd().split("\n");
    const last = JSON.parse(lines[6] as string);
    last.record.data.note = "forged";
    const { seal } = await import("@opsledger/core");
    lines[6] = seal(last.record).line;
    await writeFile(segment, `${lines.join("\n")}\n`);
    expect((await opsledger(["verify", "--no-remember", ...store], { cwd })).code, "a re-hashed tail verifies clean alone").toBe(0);
    const rewritten = await opsledger(["verify", "--checkpoint", checkpoints, "--key", vkey, "--json", ...store], { cwd });
    expect(rewritten.code).toBe(3);
    expect(rewritten.json.breaks).toEqual([expect.objectContaining({ seq: 1, kind: "inconsistent_with_checkpoint" })]);
    // and signing a checkpoint of the rewritten log next to the old one is refused
    const resign = await opsledger(["checkpoint", "--key", keyFile, "--out", `${checkpoints}/`, "--json", ...store], { cwd });
    expect(resign.code).toBe(3);
    expect(resign.json.breaks).toEqual([expect.objectContaining({ kind: "inconsistent_with_checkpoint" })]);
  }, 120_000);

  it("refuses a checkpoint no trusted key signed, and usage without a key", async () => {
    const dir = join(cwd, `fs-${randomUUID()}`);
    const store = ["--store", dir];
    await populate(store);
    const signer = await generateKey(`a-${randomUUID()}`);
    const other = await generateKey(`b-${randomUUID()}`);
    const file = join(cwd, `cp-${randomUUID()}.checkpoint`);
    expect((await opsledger(["checkpoint", "--key", signer.keyFile, "--out", file, ...store], { cwd })).code).toBe(0);
    const wrongKey = await opsledger(["verify", "--checkpoint", file, "--key", other.vkey, "--json", ...store], { cwd });
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.json.breaks).toEqual([
      { seq: 7, kind: "bad_checkpoint_signature", detail: "a checkpoint does not verify: no trusted key signed it" },
    ]);
    const noKey = await opsledger(["verify", "--checkpoint", file, ...store], { cwd });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("--checkpoint needs --key");
    const badHead = await opsledger(["verify", "--expect-head", "7:nothex", ...store], { cwd });
    expect(badHead.code).toBe(2);
    // the signing key from the environment, the checkpoint on stdout
    const fromEnv = await opsledger(["checkpoint", ...store], {
      cwd,
      env: { OPSLEDGER_SIGNING_KEY: await readFile(signer.keyFile, "utf8") },
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toMatch(/^opsledger\/default\n7\n[A-Za-z0-9+/]{43}=\n\n— opsledger\/default \S+\n$/);
    const inside = await opsledger(["checkpoint", "--key", signer.keyFile, "--out", join(dir, "checkpoints/"), ...store], { cwd });
    expect(inside.code).toBe(1);
    expect(inside.stderr).toContain("is inside the store: keep checkpoints apart");
    const noSigner = await opsledger(["checkpoint", ...store], { cwd });
    expect(noSigner.code).toBe(2);
    expect(noSigner.stderr).toContain("a signing key is needed");
  }, 120_000);

  it("prove writes a bundle verify-bundle checks with no store; an edited bundle is refused", async () => {
    const dir = join(cwd, `fs-${randomUUID()}`);
    const store = ["--store", dir];
    await populate(store);
    const { keyFile, vkey } = await generateKey(`p-${randomUUID()}`);
    const older = join(cwd, `older-${randomUUID()}.checkpoint`);
    expect((await opsledger(["checkpoint", "--key", keyFile, "--out", older, ...store], { cwd })).code).toBe(0);
    const more = await opsledger(["killswitch", "on", "--actor", "alice", "--rationale", "drill", ...store], { cwd });
    expect(more.code).toBe(0);
    const bundle = join(cwd, `bundle-${randomUUID()}.json`);
    const proved = await opsledger(["prove", "2", "--signing-key", keyFile, "--older", older, "--out", bundle, "--json", ...store], {
      cwd,
    });
    expect(proved.code).toBe(0);
    expect(proved.json).toMatchObject({ ok: true, seq: 2, treeSize: 8, consistency: true });

    // the store is gone: the bundle alone proves the record
    await rm(dir, { recursive: true, force: true });
    const checked = await opsledger(["verify-bundle", bundle, "--key", vkey, "--json"], { cwd });
    expect(checked.code).toBe(0);
    expect(checked.json).toMatchObject({ ok: true, seq: 2, checkpoint: { size: 8 }, older: { size: 7 } });
    const text = await opsledger(["verify-bundle", bundle, "--key", vkey], { cwd });
    expect(text.stdout).toMatch(/^ok: seq 2 \(PolicyApplied at .* by .*\) is in the log opsledger\/default signed at size 8 by /);

    const edited = JSON.parse(await readFile(bundle, "utf8"));
    edited.record = edited.record.replace('"seq":2', '"seq":3');
    await writeFile(bundle, JSON.stringify(edited));
    const refused = await opsledger(["verify-bundle", bundle, "--key", vkey, "--json"], { cwd });
    expect(refused.code).toBe(3);
    expect(refused.json.problems).toContain("the record's bytes do not hash to its stored hash");
    const untrusted = await opsledger(["verify-bundle", bundle, "--key", (await generateKey(`q-${randomUUID()}`)).vkey, "--json"], { cwd });
    expect(untrusted.json.problems).toContain("the checkpoint does not verify: no trusted key signed it");
    expect((await opsledger(["prove", "99", "--signing-key", keyFile, "--out", bundle], { cwd })).code).not.toBe(0);
  }, 120_000);
});

describe("automatic checkpoints", () => {
  it("writing commands sign one into $OPSLEDGER_CHECKPOINT_DIR at every multiple of $OPSLEDGER_CHECKPOINT_EVERY", async () => {
    const dir = join(cwd, `auto-${randomUUID()}`);
    const { keyFile, vkey } = await generateKey(`auto-${randomUUID()}`);
    const checkpoints = join(cwd, `auto-checkpoints-${randomUUID()}`);
    const env = {
      OPSLEDGER_CHECKPOINT_DIR: checkpoints,
      OPSLEDGER_SIGNING_KEY: await readFile(keyFile, "utf8"),
      OPSLEDGER_CHECKPOINT_EVERY: "3",
    };
    await populate(["--store", dir], env);
    expect(await readdir(checkpoints)).toEqual(["default-00000000000000000003.checkpoint", "default-00000000000000000006.checkpoint"]);
    const verified = await opsledger(["verify", "--checkpoint", checkpoints, "--key", vkey, "--json", "--store", dir], { cwd });
    expect(verified.json.anchors).toEqual([
      { kind: "checkpoint", size: 3, consistent: true },
      { kind: "checkpoint", size: 6, consistent: true },
    ]);
    const unsigned = await opsledger(["init", "--store", dir], { cwd, env: { OPSLEDGER_CHECKPOINT_DIR: checkpoints } });
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain("need $OPSLEDGER_SIGNING_KEY too");
  }, 120_000);
});

describe("anchoring a log outside its store (s3://, s3rver)", () => {
  let s3: S3rverHarness;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it("a deleted last batch object is caught against the checkpoint; prove and verify-bundle work over S3", async () => {
    const prefix = `proof-${randomUUID()}`;
    const store = ["--store", `s3://${s3.bucket}/${prefix}`];
    await populate(store, s3.env);
    const { keyFile, vkey } = await generateKey(`s3-${randomUUID()}`);
    const checkpoints = join(cwd, `s3-checkpoints-${randomUUID()}`);
    const run = (args: string[]) => opsledger([...args, ...store, "--json"], { cwd, env: s3.env });
    expect((await run(["checkpoint", "--key", keyFile, "--out", `${checkpoints}/`])).json).toMatchObject({ ok: true, size: 7 });
    const bundle = join(cwd, `s3-bundle-${randomUUID()}.json`);
    expect(
      (
        await run([
          "prove",
          "7",
          "--checkpoint",
          join(checkpoints, "default-00000000000000000007.checkpoint"),
          "--key",
          vkey,
          "--out",
          bundle,
        ])
      ).code,
    ).toBe(0);
    expect((await opsledger(["verify-bundle", bundle, "--key", vkey], { cwd })).code).toBe(0);

    const client = s3.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/default/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key as string).sort();
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: keys.at(-1) }));
    expect((await run(["verify", "--no-remember"])).code, "a log missing its last batch verifies clean alone").toBe(0);
    const caught = await run(["verify", "--checkpoint", checkpoints, "--key", vkey]);
    expect(caught.code).toBe(3);
    expect(caught.json.breaks).toEqual([expect.objectContaining({ kind: "truncated_below_checkpoint" })]);
  }, 120_000);

  it("keeps checkpoints in another S3 prefix, and refuses one inside the store's", async () => {
    const prefix = `proof-${randomUUID()}`;
    const store = ["--store", `s3://${s3.bucket}/${prefix}`];
    await populate(store, s3.env);
    const { keyFile, vkey } = await generateKey(`s3f-${randomUUID()}`);
    const run = (args: string[], env: Record<string, string> = {}) =>
      opsledger([...args, ...store, "--json"], { cwd, env: { ...s3.env, ...env } });
    const folder = `s3://${s3.bucket}/${prefix}-checkpoints`;
    const signed = await run(["checkpoint", "--key", keyFile, "--out", folder]);
    expect(signed.json).toMatchObject({ ok: true, size: 7, file: `${folder}/default-00000000000000000007.checkpoint` });
    expect((await run(["verify", "--checkpoint", folder, "--key", vkey])).json.anchors).toEqual([
      { kind: "checkpoint", size: 7, consistent: true },
    ]);
    const inside = await run(["checkpoint", "--key", keyFile, "--out", `s3://${s3.bucket}/${prefix}/checkpoints`]);
    expect(inside.code).toBe(1);
    expect(inside.json.error).toContain("is inside the store: keep checkpoints apart");
    // automatic checkpoints into the S3 folder
    const auto = await run(["killswitch", "on", "--actor", "alice", "--rationale", "drill"], {
      OPSLEDGER_CHECKPOINT_DIR: folder,
      OPSLEDGER_SIGNING_KEY: await readFile(keyFile, "utf8"),
      OPSLEDGER_CHECKPOINT_EVERY: "4",
    });
    expect(auto.code).toBe(0);
    expect((await run(["verify", "--checkpoint", folder, "--key", vkey])).json.anchors).toEqual([
      { kind: "checkpoint", size: 7, consistent: true },
      { kind: "checkpoint", size: 8, consistent: true },
    ]);
  }, 120_000);
});
