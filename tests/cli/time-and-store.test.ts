// The CLI where time and the store are not what they seem: time in a ledger never goes backwards
// (semantics §2 row 28: a clock set back with --at neither backdates a record nor escapes an
// expired review); a store that cannot be created fails at once; what the fs store found at a
// stream's end and repaired is said on stderr and in --json.
import { appendFile, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetStateDocument, guardedRegistry } from "@opsledger/core/testing";
import { createFsEventStore } from "@opsledger/store-fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opsledger } from "./run.ts";

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "opsledger-cli-time-"));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const governance = ["--actor", "carol", "--approval-ref", "INC-7", "--rationale", "runaway"];

async function recordedAt(dir: string): Promise<string[]> {
  const store = createFsEventStore({ dir });
  const times: string[] = [];
  for await (const record of store.read("default")) times.push(JSON.parse(record.line).record.at);
  await store.close();
  return times;
}

describe("opsledger --at on a log that is further along", () => {
  it("records `killswitch on --at 2020-01-01` at the head's time, and the log verifies", async () => {
    const dir = join(cwd, "killswitch");
    expect((await opsledger(["init", "--store", dir, "--at", "2026-06-01T00:00:00Z"], { cwd })).code).toBe(0);
    const on = await opsledger(["killswitch", "on", ...governance, "--store", dir, "--at", "2020-01-01T00:00:00Z", "--json"], { cwd });
    expect(on.json).toMatchObject({ ok: true, changed: true, seq: 2 });
    expect(await recordedAt(dir)).toEqual(["2026-06-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z"]);
    expect((await opsledger(["verify", "--store", dir], { cwd })).code).toBe(0);
  });

  it("keeps an expired review expired: evaluate and dispatch --autonomous with an earlier --at execute nothing", async () => {
    const dir = join(cwd, "governance");
    const registry = join(cwd, "registry.json");
    const state = join(cwd, "state.json");
    await writeFile(registry, JSON.stringify(guardedRegistry({ governance: { reviewBy: "2026-03-05T00:00:00Z" } })));
    await writeFile(state, JSON.stringify(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }])));
    expect((await opsledger(["registry", "apply", registry, "--store", dir, "--at", "2026-03-01T00:00:00Z"], { cwd })).code).toBe(0);
    // the real time: the review has expired
    expect((await opsledger(["observe", state, "--store", dir, "--at", "2026-03-10T00:00:00Z"], { cwd })).code).toBe(0);
    const evaluated = await opsledger(["evaluate", "--store", dir, "--at", "2026-03-02T00:00:00Z", "--json"], { cwd });
    expect(evaluated.json).toMatchObject({ autoEligibleCount: 0 });
    expect(evaluated.json.candidates[0].autonomous.reasons).toContain("autonomous_governance_review_expired");
    const log = join(cwd, "control.log");
    const dispatched = await opsledger(
      ["dispatch", "--autonomous", "--control", `echo called >> ${log}`, "--store", dir, "--at", "2026-03-02T00:00:00Z", "--json"],
      { cwd },
    );
    expect(dispatched.code).toBe(0);
    expect(dispatched.json).toMatchObject({ requestedIntentCount: 0, executedCount: 0 });
    expect((await recordedAt(dir)).every((at, i, all) => i === 0 || at >= (all[i - 1] as string))).toBe(true);
  });
});

describe("opsledger on a store it cannot create", () => {
  it("exits 4 at once with the reason, instead of waiting on a lock", async () => {
    const started = Date.now();
    const run = await opsledger(["init", "--store", "/proc/opsledger-cannot-be-here"], { cwd });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/opsledger-cannot-be-here/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("opsledger says what the fs store found and repaired", () => {
  it("names bytes after the last record on a read, and reports their repair on the next write (stderr and --json)", async () => {
    const dir = join(cwd, "torn");
    const state = join(cwd, "torn-state.json");
    await writeFile(state, JSON.stringify(fleetStateDocument([{ loopId: "loop-red" }])));
    expect((await opsledger(["observe", state, "--store", dir], { cwd })).code).toBe(0);
    const segment = join(dir, "default", "00000000000000000001.ndjson");
    const { size } = await stat(segment);
    await appendFile(segment, '{"hash":"0123","record":{"v":1');
    const verified = await opsledger(["verify", "--store", dir, "--json"], { cwd });
    expect(verified.code).toBe(0);
    expect(verified.json.tailDamage).toEqual([
      { kind: "torn_tail", streamId: "default", segment: "00000000000000000001.ndjson", offset: size, bytes: 30 },
    ]);
    expect(verified.stderr).toMatch(/found 30 bytes after the last record .* at byte \d+ that are not a record/);
    const observed = await opsledger(["observe", state, "--store", dir, "--json"], { cwd });
    expect(observed.code).toBe(0);
    expect(observed.json.repairs).toEqual([
      { kind: "torn_tail", streamId: "default", segment: "00000000000000000001.ndjson", offset: size, truncatedBytes: 30 },
    ]);
    expect(observed.stderr).toMatch(/repaired default\/00000000000000000001\.ndjson: cut 30 bytes that were not a record/);
    expect((await opsledger(["verify", "--store", dir, "--json"], { cwd })).json).not.toHaveProperty("tailDamage");
  });
});
