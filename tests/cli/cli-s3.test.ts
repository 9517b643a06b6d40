import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3rverHarness, startS3rver } from "../s3/s3rver-harness.mjs";
import { fixtures, opsledger } from "./run.ts";

let s3: S3rverHarness;
let cwd: string;
beforeAll(async () => {
  s3 = await startS3rver();
  cwd = await mkdtemp(join(tmpdir(), "opsledger-cli-s3-"));
});
afterAll(async () => {
  await s3?.stop();
  await rm(cwd, { recursive: true, force: true });
});

describe("opsledger on an s3:// store (s3rver over HTTP)", () => {
  it("runs the reference workflow, verify and the drills against S3", async () => {
    const store = ["--store", `s3://${s3.bucket}/cli-${randomUUID()}`];
    const run = (args: string[]) => opsledger([...args, ...store, "--json"], { cwd, env: s3.env });
    expect((await run(["registry", "apply", join(fixtures, "registry.v1.json")])).json).toMatchObject({
      ok: true,
      change: "autonomous_policy_initialized",
    });
    expect((await run(["observe", join(fixtures, "state.json")])).json).toMatchObject({ ok: true, seq: 3 });
    expect((await run(["evaluate"])).json).toMatchObject({ autoEligibleCount: 2 });
    const dispatched = await run(["dispatch", "--autonomous", "--control", join(fixtures, "control-confirm.sh")]);
    expect(dispatched.json).toMatchObject({ requestedIntentCount: 2, executedCount: 2 });
    const status = await run(["status"]);
    expect(status.json.autonomous.outcomeTotals).toMatchObject({ attempted: 2, executed: 2 });
    const verified = await run(["verify"]);
    expect(verified.code).toBe(0);
    expect(verified.json).toMatchObject({ ok: true, count: 7 });
    const drills = await run(["drill", "all"]);
    expect(drills.code).toBe(0);
    expect(drills.json.ok).toBe(true);
    // on Node 20 the AWS SDK's notice about its Node 22 releases is not the operator's concern
    for (const r of [status, verified, drills]) expect(r.stderr).toBe("");
    const asked = await opsledger(["status", ...store], {
      cwd,
      env: { ...s3.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" },
    });
    if (Number(process.versions.node.split(".")[0]) < 22) expect(asked.stderr).toContain("NodeVersionSupportWarning");
  }, 120_000);

  it("exits 4 when the S3 endpoint cannot be reached", async () => {
    const run = await opsledger(["status", "--store", "s3://nowhere/x"], {
      cwd,
      env: { ...s3.env, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" },
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("s3 store");
  });
});
