import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isOpsledgerError } from "../errors.ts";
import { parseRegistry, policyHash, ROOT_PATH, safeParseRegistry } from "./registry.ts";

const NOW = "2026-03-01T00:00:00Z";

const minimal = () => ({ schemaVersion: "v1", loops: [{ loopId: "loop-red" }] });

// the reference drills' shape: guarded_auto with complete governance (reference §8.1)
const guarded = (): Record<string, any> => ({
  schemaVersion: "v1",
  fleetId: "fleet-a",
  loops: [
    { loopId: "loop-red", transport: "local", metadata: { team: "core" } },
    { loopId: "loop-sprite", transport: "sprite_service", sprite: { id: "sprite-1", serviceBaseUrl: "http://sprite.local" } },
  ],
  policy: {
    mode: "guarded_auto",
    noiseControls: { dedupeWindowSeconds: 0 },
    autonomous: {
      allow: { categories: ["health_critical"], intents: ["cancel"] },
      thresholds: { minSeverity: "critical", minConfidence: "high" },
      safety: { maxActionsPerRun: 2, maxActionsPerLoop: 2, cooldownSeconds: 0, killSwitch: true },
      governance: {
        actor: "alice",
        approvalRef: "CAB-900",
        rationale: "drill",
        changedAt: "2026-02-23T00:00:00Z",
        reviewBy: "2026-12-31T00:00:00Z",
      },
    },
  },
});

const errorsOf = (json: unknown, now = NOW) => {
  const result = safeParseRegistry(json, { now });
  if (result.ok) throw new Error("expected the registry to be refused");
  return result.errors;
};

describe("parseRegistry: defaults (reference §2)", () => {
  it("fills every default of a minimal registry exactly as the reference does", () => {
    expect(parseRegistry(minimal(), { now: NOW })).toEqual({
      schemaVersion: "v1",
      fleetId: "default",
      loopCount: 1,
      loops: [
        {
          loopId: "loop-red",
          enabled: true,
          transport: "local",
          sprite: {},
          service: { retryAttempts: 3, retryBackoffSeconds: 1 },
          metadata: {},
        },
      ],
      policy: {
        mode: "advisory",
        suppressions: {},
        noiseControls: { dedupeWindowSeconds: 300 },
        autonomous: {
          enabled: false,
          allow: { categories: ["reconcile_failed", "health_critical"], intents: ["cancel"] },
          thresholds: { minSeverity: "critical", minConfidence: "high" },
          safety: { maxActionsPerRun: 1, maxActionsPerLoop: 1, cooldownSeconds: 300, killSwitch: false },
          governance: { requireDistinctApprover: false },
          rollout: {
            canaryPercent: 100,
            scope: { loopIds: [] },
            selector: { salt: "fleet-autonomous-rollout-v1", hashVersion: 1, mode: "percent" },
            pause: { manual: false },
            autoPause: { enabled: true, lookbackExecutions: 5, minSampleSize: 3, ambiguityRateThreshold: 0.4, failureRateThreshold: 0.4 },
          },
        },
      },
    });
  });

  it("normalizes a guarded registry: enabled, reviewWindowDays, service base URL fallbacks", () => {
    const registry = parseRegistry(guarded(), { now: NOW });
    expect(registry.policy.autonomous.enabled).toBe(true);
    expect(registry.policy.autonomous.governance.reviewWindowDays).toBe(311);
    expect(registry.loops[1]).toEqual({
      loopId: "loop-sprite",
      enabled: true,
      transport: "sprite_service",
      sprite: { id: "sprite-1", serviceBaseUrl: "http://sprite.local" },
      service: { baseUrl: "http://sprite.local", retryAttempts: 3, retryBackoffSeconds: 1 },
      metadata: {},
    });
    expect(registry.loops[0]?.metadata).toEqual({ team: "core" });
    expect(registry.policy.autonomous.safety).toEqual({ maxActionsPerRun: 2, maxActionsPerLoop: 2, cooldownSeconds: 0, killSwitch: true });
  });

  it("keeps 0, empty arrays and false where the reference keeps them", () => {
    const doc = guarded();
    doc["policy"].autonomous.allow.categories = [];
    doc["policy"].autonomous.rollout = { canaryPercent: 0, pause: { manual: false } };
    const registry = parseRegistry(doc, { now: NOW });
    expect(registry.policy.autonomous.allow.categories).toEqual([]);
    expect(registry.policy.autonomous.rollout.canaryPercent).toBe(0);
    expect(registry.policy.noiseControls.dedupeWindowSeconds).toBe(0);
  });

  it("honours enabled:false on loops and autoPause (the reference turned both into true, semantics §2 #1)", () => {
    const doc = guarded();
    doc["loops"][0].enabled = false;
    doc["policy"].autonomous.rollout = { autoPause: { enabled: false } };
    const registry = parseRegistry(doc, { now: NOW });
    expect(registry.loops[0]?.enabled).toBe(false);
    expect(registry.policy.autonomous.rollout.autoPause.enabled).toBe(false);
  });

  it("treats null as absent, as jq's // does", () => {
    const doc = { ...minimal(), fleetId: null, policy: { mode: null, noiseControls: { dedupeWindowSeconds: null } } };
    const registry = parseRegistry(doc, { now: NOW });
    expect(registry.fleetId).toBe("default");
    expect(registry.policy.mode).toBe("advisory");
    expect(registry.policy.noiseControls.dedupeWindowSeconds).toBe(300);
  });

  it("accepts output-only keys the reference's tooling writes back (sourceFile, loopCount, enabled)", () => {
    const doc: Record<string, any> = { ...guarded(), sourceFile: "x.json", loopCount: 2 };
    doc["policy"].autonomous.enabled = true;
    expect(safeParseRegistry(doc, { now: NOW }).ok).toBe(true);
  });

  it("reads a JSON string and reports text that is not JSON", () => {
    expect(parseRegistry(JSON.stringify(minimal()), { now: NOW }).loopCount).toBe(1);
    expect(errorsOf("{not json")).toEqual([{ path: ROOT_PATH, message: "registry is not valid JSON", detail: expect.any(String) }]);
  });
});

describe("parseRegistry: every validation rule with the reference's message", () => {
  // each case breaks one rule of a valid document (in place, or by returning a replacement)
  const cases: Array<[string, (doc: Record<string, any>) => unknown, string, string]> = [
    ["schemaVersion must be v1", (d) => ({ ...d, schemaVersion: "v2" }), "schemaVersion", 'schemaVersion must be "v1"'],
    ["fleetId must be a string", (d) => ({ ...d, fleetId: 7 }), "fleetId", "fleetId must be a string when present"],
    ["loops must be an array", (d) => ({ ...d, loops: {} }), "loops", "loops must be an array"],
    ["loops must be non-empty", (d) => ({ ...d, loops: [] }), "loops", "loops must include at least one loop entry"],
    ["a loop must be an object", (d) => ({ ...d, loops: [...d["loops"], 3] }), "loops[2]", "loops[2]: entry must be an object"],
    [
      "loopId must be a non-empty string",
      (d) => {
        d["loops"][0].loopId = "";
      },
      "loops[0].loopId",
      "loops[0]: loopId must be a non-empty string",
    ],
    [
      "loopIds must be unique",
      (d) => {
        d["loops"][1].loopId = "loop-red";
      },
      "loops",
      "loopId values must be unique",
    ],
    [
      "enabled must be a boolean",
      (d) => {
        d["loops"][0].enabled = "no";
      },
      "loops[0].enabled",
      "loops[0]: enabled must be boolean when present",
    ],
    [
      "transport is an enum",
      (d) => {
        d["loops"][0].transport = "ssh";
      },
      "loops[0].transport",
      "loops[0]: transport must be local or sprite_service",
    ],
    [
      "sprite must be an object",
      (d) => {
        d["loops"][0].sprite = "s";
      },
      "loops[0].sprite",
      "loops[0]: sprite must be an object when present",
    ],
    [
      "sprite.id must be non-empty",
      (d) => {
        d["loops"][1].sprite.id = "";
      },
      "loops[1].sprite.id",
      "must be a non-empty string",
    ],
    [
      "service must be an object",
      (d) => {
        d["loops"][0].service = [];
      },
      "loops[0].service",
      "must be an object when present",
    ],
    [
      "tokenEnv must be non-empty",
      (d) => {
        d["loops"][0].service = { tokenEnv: "" };
      },
      "loops[0].service.tokenEnv",
      "must be a non-empty string",
    ],
    [
      "retryAttempts >= 1",
      (d) => {
        d["loops"][0].service = { retryAttempts: 0 };
      },
      "loops[0].service.retryAttempts",
      "service.retryAttempts must be >= 1 when present",
    ],
    [
      "retryBackoffSeconds >= 0",
      (d) => {
        d["loops"][0].service = { retryBackoffSeconds: -1 };
      },
      "loops[0].service.retryBackoffSeconds",
      "service.retryBackoffSeconds must be >= 0 when present",
    ],
    [
      "metadata must be an object",
      (d) => {
        d["loops"][0].metadata = [1];
      },
      "loops[0].metadata",
      "must be an object when present",
    ],
    [
      "sprite_service needs a base URL",
      (d) => {
        delete d["loops"][1].sprite.serviceBaseUrl;
      },
      "loops[1]",
      "sprite_service loops require service.baseUrl or sprite.serviceBaseUrl",
    ],
    ["policy must be an object", (d) => ({ ...d, policy: 1 }), "policy", "policy must be an object when present"],
    [
      "mode is an enum",
      (d) => {
        d["policy"].mode = "auto";
      },
      "policy.mode",
      "policy.mode must be advisory or guarded_auto",
    ],
    [
      "suppressions must be an object",
      (d) => {
        d["policy"].suppressions = [];
      },
      "policy.suppressions",
      "policy.suppressions must be an object mapping loopId to category arrays",
    ],
    [
      "suppression keys must be declared",
      (d) => {
        d["policy"].suppressions = { ghost: ["health_critical"] };
      },
      "policy.suppressions.ghost",
      "key must reference a declared loopId or *",
    ],
    [
      "suppression values must be arrays",
      (d) => {
        d["policy"].suppressions = { "*": "health_critical" };
      },
      "policy.suppressions.*",
      "policy.suppressions.* must be an array",
    ],
    [
      "suppression entries must be strings",
      (d) => {
        d["policy"].suppressions = { "*": [1] };
      },
      "policy.suppressions.*",
      "policy.suppressions.* entries must be strings",
    ],
    [
      "suppression categories must be known",
      (d) => {
        d["policy"].suppressions = { "loop-red": ["cpu_hot"] };
      },
      "policy.suppressions.loop-red",
      "contains unknown categories",
    ],
    [
      "noiseControls must be an object",
      (d) => {
        d["policy"].noiseControls = 3;
      },
      "policy.noiseControls",
      "must be an object when present",
    ],
    [
      "dedupeWindowSeconds integer >= 0",
      (d) => {
        d["policy"].noiseControls.dedupeWindowSeconds = 1.5;
      },
      "policy.noiseControls.dedupeWindowSeconds",
      "must be an integer >= 0",
    ],
    [
      "autonomous must be an object",
      (d) => {
        d["policy"].autonomous = "x";
      },
      "policy.autonomous",
      "must be an object when present",
    ],
    [
      "allow must be an object",
      (d) => {
        d["policy"].autonomous.allow = 1;
      },
      "policy.autonomous.allow",
      "must be an object when present",
    ],
    [
      "allow.categories must be an array",
      (d) => {
        d["policy"].autonomous.allow.categories = "x";
      },
      "policy.autonomous.allow.categories",
      "must be an array",
    ],
    [
      "allow.categories must be supported",
      (d) => {
        d["policy"].autonomous.allow.categories = ["cpu"];
      },
      "policy.autonomous.allow.categories",
      "policy.autonomous.allow.categories contains unsupported categories",
    ],
    [
      "allow.intents must be supported",
      (d) => {
        d["policy"].autonomous.allow.intents = ["approve"];
      },
      "policy.autonomous.allow.intents",
      "policy.autonomous.allow.intents contains unsupported intents",
    ],
    [
      "minSeverity is an enum",
      (d) => {
        d["policy"].autonomous.thresholds.minSeverity = "high";
      },
      "policy.autonomous.thresholds.minSeverity",
      "policy.autonomous.thresholds.minSeverity must be one of critical, warning, info",
    ],
    [
      "minConfidence is an enum",
      (d) => {
        d["policy"].autonomous.thresholds.minConfidence = "sure";
      },
      "policy.autonomous.thresholds.minConfidence",
      "policy.autonomous.thresholds.minConfidence must be one of high, medium, low",
    ],
    [
      "maxActionsPerRun integer >= 0",
      (d) => {
        d["policy"].autonomous.safety.maxActionsPerRun = -1;
      },
      "policy.autonomous.safety.maxActionsPerRun",
      "policy.autonomous.safety.maxActionsPerRun must be an integer >= 0 when present",
    ],
    [
      "maxActionsPerLoop integer >= 0",
      (d) => {
        d["policy"].autonomous.safety.maxActionsPerLoop = 0.5;
      },
      "policy.autonomous.safety.maxActionsPerLoop",
      "must be an integer >= 0 when present",
    ],
    [
      "cooldownSeconds integer >= 0",
      (d) => {
        d["policy"].autonomous.safety.cooldownSeconds = "5";
      },
      "policy.autonomous.safety.cooldownSeconds",
      "must be an integer >= 0 when present",
    ],
    [
      "killSwitch must be a boolean",
      (d) => {
        d["policy"].autonomous.safety.killSwitch = "on";
      },
      "policy.autonomous.safety.killSwitch",
      "must be boolean when present",
    ],
    [
      "rollout must be an object",
      (d) => {
        d["policy"].autonomous.rollout = [];
      },
      "policy.autonomous.rollout",
      "must be an object when present",
    ],
    [
      "canaryPercent integer 0..100",
      (d) => {
        d["policy"].autonomous.rollout = { canaryPercent: 101 };
      },
      "policy.autonomous.rollout.canaryPercent",
      "policy.autonomous.rollout.canaryPercent must be an integer between 0 and 100 when present",
    ],
    [
      "canaryPercent is an integer with hash v1",
      (d) => {
        d["policy"].autonomous.rollout = { canaryPercent: 12.5 };
      },
      "policy.autonomous.rollout.canaryPercent",
      "policy.autonomous.rollout.canaryPercent must be an integer between 0 and 100 when present",
    ],
    [
      "canaryPercent has at most two decimals with hash v2",
      (d) => {
        d["policy"].autonomous.rollout = { canaryPercent: 12.345, selector: { hashVersion: 2 } };
      },
      "policy.autonomous.rollout.canaryPercent",
      "at most two decimals",
    ],
    [
      "scope.loopIds must be an array",
      (d) => {
        d["policy"].autonomous.rollout = { scope: { loopIds: "loop-red" } };
      },
      "policy.autonomous.rollout.scope.loopIds",
      "must be an array",
    ],
    [
      "scope.loopIds entries non-empty",
      (d) => {
        d["policy"].autonomous.rollout = { scope: { loopIds: [""] } };
      },
      "policy.autonomous.rollout.scope.loopIds",
      "entries must be non-empty strings",
    ],
    [
      "scope.loopIds unique",
      (d) => {
        d["policy"].autonomous.rollout = { scope: { loopIds: ["loop-red", "loop-red"] } };
      },
      "policy.autonomous.rollout.scope.loopIds",
      "entries must be unique",
    ],
    [
      "scope.loopIds must be declared",
      (d) => {
        d["policy"].autonomous.rollout = { scope: { loopIds: ["ghost"] } };
      },
      "policy.autonomous.rollout.scope.loopIds",
      "policy.autonomous.rollout.scope.loopIds entries must reference declared loopIds",
    ],
    [
      "salt must be non-empty",
      (d) => {
        d["policy"].autonomous.rollout = { selector: { salt: "" } };
      },
      "policy.autonomous.rollout.selector.salt",
      "must be non-empty when present",
    ],
    [
      "hashVersion 1 or 2",
      (d) => {
        d["policy"].autonomous.rollout = { selector: { hashVersion: 3 } };
      },
      "policy.autonomous.rollout.selector.hashVersion",
      "must be 1 or 2",
    ],
    [
      "selector.mode enum",
      (d) => {
        d["policy"].autonomous.rollout = { selector: { mode: "all" } };
      },
      "policy.autonomous.rollout.selector.mode",
      "must be percent or exact when present",
    ],
    [
      "pause.manual boolean",
      (d) => {
        d["policy"].autonomous.rollout = { pause: { manual: 1 } };
      },
      "policy.autonomous.rollout.pause.manual",
      "must be boolean when present",
    ],
    [
      "autoPause.enabled boolean",
      (d) => {
        d["policy"].autonomous.rollout = { autoPause: { enabled: "yes" } };
      },
      "policy.autonomous.rollout.autoPause.enabled",
      "must be boolean when present",
    ],
    [
      "lookbackExecutions >= 1",
      (d) => {
        d["policy"].autonomous.rollout = { autoPause: { lookbackExecutions: 0 } };
      },
      "policy.autonomous.rollout.autoPause.lookbackExecutions",
      "must be an integer >= 1",
    ],
    [
      "minSampleSize >= 1",
      (d) => {
        d["policy"].autonomous.rollout = { autoPause: { minSampleSize: 2.5 } };
      },
      "policy.autonomous.rollout.autoPause.minSampleSize",
      "must be an integer >= 1",
    ],
    [
      "ambiguityRateThreshold 0..1",
      (d) => {
        d["policy"].autonomous.rollout = { autoPause: { ambiguityRateThreshold: 2 } };
      },
      "policy.autonomous.rollout.autoPause.ambiguityRateThreshold",
      "policy.autonomous.rollout.autoPause.ambiguityRateThreshold must be a number between 0 and 1 when present",
    ],
    [
      "failureRateThreshold 0..1",
      (d) => {
        d["policy"].autonomous.rollout = { autoPause: { failureRateThreshold: -0.1 } };
      },
      "policy.autonomous.rollout.autoPause.failureRateThreshold",
      "policy.autonomous.rollout.autoPause.failureRateThreshold must be a number between 0 and 1 when present",
    ],
    [
      "governance must be an object",
      (d) => {
        d["policy"].mode = "advisory";
        d["policy"].autonomous.governance = "x";
      },
      "policy.autonomous.governance",
      "must be an object when present",
    ],
    [
      "governance is required in guarded_auto",
      (d) => {
        delete d["policy"].autonomous.governance;
      },
      "policy.autonomous.governance",
      "policy.autonomous.governance is required when policy.mode is guarded_auto",
    ],
    [
      "actor is required in guarded_auto",
      (d) => {
        delete d["policy"].autonomous.governance.actor;
      },
      "policy.autonomous.governance.actor",
      "policy.autonomous.governance.actor is required when policy.mode is guarded_auto",
    ],
    [
      "approvalRef is required in guarded_auto",
      (d) => {
        delete d["policy"].autonomous.governance.approvalRef;
      },
      "policy.autonomous.governance.approvalRef",
      "policy.autonomous.governance.approvalRef is required when policy.mode is guarded_auto",
    ],
    [
      "rationale is required in guarded_auto",
      (d) => {
        delete d["policy"].autonomous.governance.rationale;
      },
      "policy.autonomous.governance.rationale",
      "policy.autonomous.governance.rationale is required when policy.mode is guarded_auto",
    ],
    [
      "actor must be non-empty",
      (d) => {
        d["policy"].autonomous.governance.actor = "";
      },
      "policy.autonomous.governance.actor",
      "must be a non-empty string",
    ],
    [
      "changedAt must be a timestamp in guarded_auto",
      (d) => {
        d["policy"].autonomous.governance.changedAt = "2026-02-23";
      },
      "policy.autonomous.governance.changedAt",
      "policy.autonomous.governance.changedAt must be an ISO-8601 timestamp when policy.mode is guarded_auto",
    ],
    [
      "reviewBy must be a timestamp in guarded_auto",
      (d) => {
        d["policy"].autonomous.governance.reviewBy = "2026-12-31T00:00:00+00:00";
      },
      "policy.autonomous.governance.reviewBy",
      "policy.autonomous.governance.reviewBy must be an ISO-8601 timestamp when policy.mode is guarded_auto",
    ],
    [
      "changedAt must be a timestamp in any mode",
      (d) => {
        d["policy"].mode = "advisory";
        d["policy"].autonomous.governance.changedAt = "yesterday";
      },
      "policy.autonomous.governance.changedAt",
      "must be an ISO-8601 timestamp",
    ],
    [
      "reviewBy must be after changedAt",
      (d) => {
        d["policy"].autonomous.governance.changedAt = "2027-01-01T00:00:00Z";
      },
      "policy.autonomous.governance.reviewBy",
      "policy.autonomous.governance.reviewBy must be after policy.autonomous.governance.changedAt",
    ],
    [
      "reviewBy must be in the future in guarded_auto",
      (d) => {
        d["policy"].autonomous.governance.reviewBy = "2026-02-28T23:59:59Z";
      },
      "policy.autonomous.governance.reviewBy",
      "policy.autonomous.governance.reviewBy must be in the future when policy.mode is guarded_auto",
    ],
    [
      "approvedBy is required with requireDistinctApprover",
      (d) => {
        d["policy"].autonomous.governance.requireDistinctApprover = true;
      },
      "policy.autonomous.governance.approvedBy",
      "policy.autonomous.governance.approvedBy is required when policy.autonomous.governance.requireDistinctApprover is true",
    ],
    [
      "approvedBy must differ from actor",
      (d) => {
        Object.assign(d["policy"].autonomous.governance, { requireDistinctApprover: true, approvedBy: "alice" });
      },
      "policy.autonomous.governance.approvedBy",
      "must differ from policy.autonomous.governance.actor",
    ],
    [
      "requireDistinctApprover boolean",
      (d) => {
        d["policy"].autonomous.governance.requireDistinctApprover = "yes";
      },
      "policy.autonomous.governance.requireDistinctApprover",
      "must be boolean when present",
    ],
  ];

  for (const [name, mutate, path, message] of cases) {
    it(`refuses: ${name}`, () => {
      const doc = guarded();
      const errors = errorsOf(mutate(doc) ?? doc);
      const messages = errors.filter((issue) => issue.path === path).map((issue) => issue.message);
      expect(
        messages.some((text) => text.includes(message)),
        JSON.stringify(errors),
      ).toBe(true);
    });
  }

  it("collects every problem in one pass, never only the first", () => {
    const doc = guarded();
    doc["schemaVersion"] = "v0";
    doc["loops"][0].transport = "ftp";
    doc["policy"].autonomous.allow.intents = ["approve"];
    delete doc["policy"].autonomous.governance.actor;
    doc["policy"].autonomous.rollout = { canaryPercent: 250, scope: { loopIds: ["ghost"] } };
    const paths = errorsOf(doc).map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "schemaVersion",
        "loops[0].transport",
        "policy.autonomous.allow.intents",
        "policy.autonomous.governance.actor",
        "policy.autonomous.rollout.canaryPercent",
        "policy.autonomous.rollout.scope.loopIds",
      ]),
    );
  });

  it("throws a typed error carrying the same list from parseRegistry", () => {
    let thrown: unknown;
    try {
      parseRegistry({ schemaVersion: "v1", loops: [] }, { now: NOW });
    } catch (error) {
      thrown = error;
    }
    expect(isOpsledgerError(thrown, "INVALID_REGISTRY")).toBe(true);
    expect((thrown as { issues: unknown[] }).issues).toEqual([{ path: "loops", message: "loops must include at least one loop entry" }]);
  });

  it("accepts an expired or missing review in advisory mode (governance is optional there)", () => {
    const doc = guarded();
    doc["policy"].mode = "advisory";
    doc["policy"].autonomous.governance.reviewBy = "2026-02-24T00:00:00Z";
    expect(safeParseRegistry(doc, { now: NOW }).ok).toBe(true);
    delete doc["policy"].autonomous.governance;
    expect(safeParseRegistry(doc, { now: NOW }).ok).toBe(true);
  });

  it("decides 'in the future' against the injected now, never the wall clock", () => {
    const doc = guarded();
    expect(safeParseRegistry(doc, { now: "2026-12-30T23:59:59.999Z" }).ok).toBe(true);
    expect(safeParseRegistry(doc, { now: "2026-12-31T00:00:00Z" }).ok).toBe(false);
  });

  it("accepts timestamps with milliseconds and refuses offsets, dates alone and impossible dates", () => {
    const at = (changedAt: string) => {
      const doc = guarded();
      doc["policy"].autonomous.governance.changedAt = changedAt;
      return safeParseRegistry(doc, { now: NOW }).ok;
    };
    expect(at("2026-02-23T00:00:00.123Z")).toBe(true);
    expect(at("2026-02-23T00:00:00.5Z")).toBe(true);
    expect(at("2026-02-23T00:00:00+00:00")).toBe(false);
    expect(at("2026-02-23")).toBe(false);
    expect(at("2026-02-30T00:00:00Z")).toBe(false);
    expect(at("2026-02-23T24:00:00Z")).toBe(false);
  });
});

describe("policyHash", () => {
  it("identifies the normalized policy whatever the key order of the document", () => {
    const doc = guarded();
    const reordered = JSON.parse(
      JSON.stringify({ policy: doc["policy"], loops: doc["loops"], fleetId: doc["fleetId"], schemaVersion: "v1" }),
    );
    expect(policyHash(parseRegistry(reordered, { now: NOW }))).toBe(policyHash(parseRegistry(doc, { now: NOW })));
    const changed = guarded();
    changed["policy"].autonomous.safety.killSwitch = false;
    expect(policyHash(parseRegistry(changed, { now: NOW }))).not.toBe(policyHash(parseRegistry(doc, { now: NOW })));
    expect(policyHash(parseRegistry(doc, { now: NOW }))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("safeParseRegistry under fuzzing", () => {
  // values of the wrong type for any field
  const wrong = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -5, max: 500 }),
    fc.double(),
    fc.string({ maxLength: 6 }),
    fc.array(fc.nat(), { maxLength: 2 }),
    fc.constant({}),
  );
  const fieldPaths = [
    ["schemaVersion"],
    ["loops"],
    ["loops", 0],
    ["loops", 0, "loopId"],
    ["loops", 1, "transport"],
    ["loops", 1, "sprite"],
    ["policy", "mode"],
    ["policy", "autonomous", "allow", "categories"],
    ["policy", "autonomous", "thresholds", "minSeverity"],
    ["policy", "autonomous", "safety", "maxActionsPerRun"],
    ["policy", "autonomous", "governance", "reviewBy"],
    ["policy", "autonomous", "governance", "actor"],
    ["policy", "autonomous", "rollout"],
    ["policy", "suppressions"],
  ];

  it("never throws on 10,000 generated malformed registries and always lists at least one message with a path", () => {
    let malformed = 0;
    const documents = fc.oneof(
      // a valid document with one field replaced by an arbitrary value
      fc.tuple(fc.constantFrom(...fieldPaths), wrong).map(([path, value]) => {
        const doc = guarded();
        let node: any = doc;
        for (const key of path.slice(0, -1)) node = node[key as string];
        node[path[path.length - 1] as string] = value;
        return doc;
      }),
      // anything at all
      fc.jsonValue(),
      fc.anything(),
    );
    for (const doc of fc.sample(documents, { numRuns: 10_000, seed: 42 })) {
      const result = safeParseRegistry(doc, { now: NOW });
      if (result.ok) continue;
      malformed++;
      expect(result.errors.length).toBeGreaterThan(0);
      for (const issue of result.errors) {
        expect(issue.path).not.toBe("");
        expect(issue.message.length).toBeGreaterThan(0);
      }
    }
    expect(malformed).toBeGreaterThan(8_000);
    console.info(`registry fuzz: 10000 generated documents, ${malformed} refused with messages, no exception`);
  });
});

describe("arbitraryRegistry (for users' property tests)", () => {
  it("generates registries that parse", async () => {
    const { arbitraryRegistry } = await import("../testing/arbitraries.ts");
    fc.assert(
      fc.property(arbitraryRegistry({ now: NOW }), (doc) => {
        const result = safeParseRegistry(doc, { now: NOW });
        expect(result.ok, JSON.stringify(result)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
