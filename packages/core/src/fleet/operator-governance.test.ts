// Operator commands speak policy governance's vocabulary (actor, rationale, approvalRef, changedAt,
// reviewBy); stopping autonomy needs who and why only; every timestamp is checked; logs written
// with the old `until` still read. Each rule is a decider specification: given, when, then.
import { describe, expect, it } from "vitest";
import { auditTimeline } from "../audit/timeline.ts";
import { openLedger } from "../ledger/ledger.ts";
import { fleetStatus } from "../projections/status.ts";
import { createMemoryEventStore } from "../store/memory-store.ts";
import { given } from "../testing/decider-spec.ts";

const NOW = "2026-03-01T00:00:00.000Z";
const who = { actor: "carol", rationale: "runaway cancels" };

describe("operator governance", () => {
  it("engages the kill switch with the shape a caller already has for policy governance", () => {
    const governance = { ...who, approvalRef: "INC-7", changedAt: "2026-02-28T23:55:00Z", reviewBy: "2026-03-01T06:00:00Z" };
    const result = given([])
      .when({ type: "EngageKillSwitch", governance })
      .then([{ type: "KillSwitchEngaged", data: { governance }, actor: "carol" }]);
    expect(result).toEqual({ ok: true, changed: true, seq: 2 });
  });

  it("stops autonomy with who and why only, and records when", () => {
    given([])
      .when({ type: "EngageKillSwitch", governance: who })
      .then([{ type: "KillSwitchEngaged", data: { governance: { ...who, changedAt: NOW } } }]);
    given([])
      .when({ type: "PauseRollout", governance: who })
      .then([{ type: "RolloutPaused", data: { governance: { ...who, changedAt: NOW } } }]);
  });

  it("wants the approval to move back toward autonomy", () => {
    const stopped = given([
      { type: "EngageKillSwitch", governance: who },
      { type: "PauseRollout", governance: who },
    ]);
    for (const type of ["ReleaseKillSwitch", "ResumeRollout"] as const) {
      const errors = stopped.when({ type, governance: who }).thenRejects("INVALID_INPUT", ["governance.approvalRef"]);
      expect(errors[0]?.message).toBe("governance.approvalRef is required");
    }
    stopped.when({ type: "ReleaseKillSwitch", governance: { ...who, approvalRef: "INC-7" } }).then([{ type: "KillSwitchReleased" }]);
  });

  it("records nothing for a latch already where it is asked to be", () => {
    expect(
      given([])
        .when({ type: "ReleaseKillSwitch", governance: { ...who, approvalRef: "INC-7" } })
        .then([]),
    ).toEqual({
      ok: true,
      changed: false,
      seq: null,
    });
    given([{ type: "EngageKillSwitch", governance: who }])
      .when({ type: "EngageKillSwitch", governance: who })
      .then([]);
  });

  it("refuses timestamps that are not ISO-8601 UTC, past deadlines, unknown fields and until, naming each", () => {
    const governance = { ...who, changedAt: "yesterday", reviewBy: "next tuesday", until: "2026-03-02T00:00:00Z", ticket: "x" } as never;
    const errors = given([])
      .when({ type: "EngageKillSwitch", governance })
      .thenRejects("INVALID_INPUT", ["governance.until", "governance.ticket", "governance.changedAt", "governance.reviewBy"]);
    expect(errors[0]?.message).toContain("is now governance.reviewBy");
    const past = given([])
      .when({ type: "PauseRollout", governance: { ...who, reviewBy: "2026-02-01T00:00:00Z" } })
      .thenRejects("INVALID_INPUT", ["governance.reviewBy"]);
    expect(past[0]?.message).toBe("governance.reviewBy must be in the future and after governance.changedAt");
    const blank = given([])
      .when({ type: "EngageKillSwitch", governance: { actor: " ", rationale: "" } })
      .thenRejects("INVALID_INPUT");
    expect(blank.map((e) => e.message)).toEqual([
      "governance.actor must be a non-empty string",
      "governance.rationale must be a non-empty string",
    ]);
  });

  it("reads a log written with the old vocabulary: until is the review deadline", async () => {
    const legacy = { actor: "carol", approvalRef: "INC-7", rationale: "runaway", until: "2026-03-02T00:00:00Z" };
    const { state } = given([{ type: "KillSwitchEngaged", data: { governance: legacy }, actor: "carol" }]);
    expect(state.fleet.killSwitch.active).toBe(true);
    expect(fleetStatus(state, new Date(NOW)).autonomous).toBeNull(); // no policy: nothing else to read
    // and the audit timeline of such a log, read from a store
    const store = createMemoryEventStore();
    const ledger = await openLedger({ store });
    await ledger.execute(() => ({
      events: [{ type: "KillSwitchEngaged", data: { governance: legacy }, actor: "carol" }],
      result: undefined,
    }));
    const entry = (await auditTimeline(store, "default")).find((e) => e.event === "KillSwitchEngaged");
    expect(entry).toMatchObject({ who: "carol", reviewBy: "2026-03-02T00:00:00Z", approvalRef: "INC-7" });
  });
});
