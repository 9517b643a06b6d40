import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLedger } from "@opsledger/core";
import { fleetStateDocument } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, opsledger } from "./run.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("opsledger over a long log: snapshots of the fold", () => {
  it("opens from the snapshot the ledger wrote, and verify catches a forged one", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "opsledger-snapshots-"));
    dirs.push(cwd);
    const dir = join(cwd, "store");
    expect((await opsledger(["init", "--store", dir], { cwd })).code).toBe(0);
    expect((await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), "--store", dir], { cwd })).code).toBe(0);
    // an embedded service has been observing for a while: 1,000 records and more
    const store = createFsEventStore({ dir });
    const service = await openLedger({ store, fleetId: "default" });
    for (let i = 0; i < 1000; i++) await service.observe(fleetStateDocument([{ loopId: "loop-red", healthStatus: "healthy" }]));
    await store.close();
    const snapshotDir = join(dir, ".snapshots", "default");
    expect(await readdir(snapshotDir)).toEqual(["00000000000000001000.snapshot"]);

    const engaged = await opsledger(["killswitch", "on", "--store", dir, "--actor", "oncall", "--rationale", "incident", "--json"], {
      cwd,
    });
    expect(engaged.code).toBe(0);
    const status = await opsledger(["status", "--store", dir, "--json"], { cwd });
    expect(JSON.stringify(status.json)).toContain('"killSwitchActive":true');
    const verified = await opsledger(["verify", "--store", dir, "--json"], { cwd });
    expect(verified.json).toMatchObject({ ok: true, snapshotsChecked: 1, breaks: [] });

    // someone who can write the store puts a snapshot where the kill switch is off, digest and all
    const path = join(snapshotDir, "00000000000000001000.snapshot");
    const body = await readFile(path, "utf8");
    const json = body.slice(0, body.lastIndexOf("\nsha256:"));
    const forgedJson = json.replace('"fleetId":"default"', '"fleetId":"default","forged":true');
    await writeFile(path, `${forgedJson}\nsha256:${createHash("sha256").update(forgedJson).digest("hex")}`);
    const caught = await opsledger(["verify", "--store", dir, "--json"], { cwd });
    expect(caught.code).toBe(3);
    expect(caught.json.breaks).toEqual([
      { seq: 1000, kind: "snapshot_mismatch", detail: "the stored snapshot of the fold is not the state the log folds to" },
    ]);
    const text = await opsledger(["verify", "--store", dir], { cwd });
    expect(text.stdout).toContain("snapshot_mismatch");

    // deleting snapshots is always safe: the next open folds from the start
    await rm(join(dir, ".snapshots"), { recursive: true });
    const again = await opsledger(["status", "--store", dir, "--json"], { cwd });
    expect(again.json).toEqual(status.json);
  }, 120_000);
});
