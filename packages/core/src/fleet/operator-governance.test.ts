// Operator commands speak policy governance's vocabulary (actor, rationale, approvalRef, changedAt,
// reviewBy); stopping autonomy needs who and why only; every timestamp is checked; logs written
// with the old `until` still read.
import { describe, expect, it } from "vitest";
import { auditTimeline } from "../audit/timeline.ts";
import { fleetStatus } from "../projections/status.ts";
import { given } from "../testing/scenario.ts";

const NOW = "2026-03-01T00:00:00.000Z";
const who = { actor: "carol", rationale: "runaway cancels" };

describe("operator governance", () => {
  it("engages the kill switch with the shape a caller already has for policy governance", async () => {
    const { result, emitted } = await given([]).when((ledger) =>
      ledger.engageKillSwitch({ ...who, approvalRef: "INC-7", changedAt: "2026-02-28T23:55:00Z", reviewBy: "2026-03-01T06:00:00Z" }),
    );
    expect(result).toEqual({ ok: true, changed: true, seq: 2 });
    expect(emitted.at(-1)?.data).toEqual({
      governance: { ...who, approvalRef: "INC-7", changedAt: "2026-02-28T23:55:00Z", reviewBy: "2026-03-01T06:00:00Z" },
    });
  });

  it("stops autonomy with who and why only, records when, and wants the approval to go back", async () => {
    const scenario = given([]);
    const engaged = await scenario.when((ledger) => ledger.engageKillSwitch(who));
    expect(engaged.result).toMatchObject({ ok: true, changed: true });
    expect(engaged.emitted.at(-1)?.data).toEqual({ governance: { ...who, changedAt: NOW } });
    const paused = await scenario.when((ledger) => ledger.pauseRollout(who));
    expect(paused.result).toMatchObject({ ok: true, changed: true });
    for (const action of ["releaseKillSwitch", "resumeRollout"] as const) {
      const refused = await scenario.when((ledger) => ledger[action](who));
      expect(refused.result).toEqual({
        ok: false,
        errors: [{ path: "governance.approvalRef", message: "governance.approvalRef is required" }],
      });
      expect(refused.emitted).toEqual([]);
    }
    const released = await scenario.when((ledger) => ledger.releaseKillSwitch({ ...who, approvalRef: "INC-7" }));
    expect(released.result).toMatchObject({ ok: true, changed: true });
  });

  it("refuses timestamps that are not ISO-8601 UTC, past deadlines, unknown fields and until, naming each", async () => {
    const { result, emitted } = await given([]).when((ledger) =>
      ledger.engageKillSwitch({
        ...who,
        changedAt: "yesterday",
        reviewBy: "next tuesday",
        until: "2026-03-02T00:00:00Z",
        ticket: "x",
      } as never),
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.path)).toEqual([
      "governance.until",
      "governance.ticket",
      "governance.changedAt",
      "governance.reviewBy",
    ]);
    expect(!result.ok && result.errors[0]?.message).toContain("is now governance.reviewBy");
    expect(emitted).toEqual([]);
    const past = await given([]).when((ledger) => ledger.pauseRollout({ ...who, reviewBy: "2026-02-01T00:00:00Z" }));
    expect(past.result).toEqual({
      ok: false,
      errors: [{ path: "governance.reviewBy", message: "governance.reviewBy must be in the future and after governance.changedAt" }],
    });
    const blank = await given([]).when((ledger) => ledger.engageKillSwitch({ actor: " ", rationale: "" }));
    expect(!blank.result.ok && blank.result.errors.map((e) => e.message)).toEqual([
      "governance.actor must be a non-empty string",
      "governance.rationale must be a non-empty string",
    ]);
  });

  it("reads a log written with the old vocabulary: until is the review deadline", async () => {
    const legacy = { actor: "carol", approvalRef: "INC-7", rationale: "runaway", until: "2026-03-02T00:00:00Z" };
    const { state, ledger } = await given([{ type: "KillSwitchEngaged", data: { governance: legacy }, actor: "carol" }]).when(
      async () => undefined,
    );
    expect(state.fleet.killSwitch.active).toBe(true);
    const entry = (await auditTimeline(ledger.store, "default")).find((e) => e.event === "KillSwitchEngaged");
    expect(entry).toMatchObject({ who: "carol", reviewBy: "2026-03-02T00:00:00Z", approvalRef: "INC-7" });
    expect(fleetStatus(state, new Date(NOW)).autonomous).toBeNull(); // no policy: nothing else to read
  });
});
