import { readFileSync } from "node:fs";
import { REASON_CODES, registryJsonSchema } from "@opsledger/core";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../packages/cli/src/program.ts";
// @ts-expect-error: a plain .mjs script without types
import { reasonCodesMarkdown } from "../../scripts/generate-reference.mjs";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("docs/reference", () => {
  it("publishes the current JSON Schema of registry v1 (run `pnpm docs:generate` when this fails)", () => {
    expect(JSON.parse(read("docs/reference/registry.schema.json"))).toEqual(registryJsonSchema());
  });

  it("publishes the current reason-code table (run `pnpm docs:generate` when this fails)", () => {
    expect(read("docs/reference/reason-codes.md")).toBe(reasonCodesMarkdown());
  });

  it("lists every one of the reference's 69 reason-code strings exactly once", () => {
    const codes = REASON_CODES.map((d) => d.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(REASON_CODES.filter((d) => d.origin === "reference")).toHaveLength(69);
  });

  it("documents every validation message the reference uses", () => {
    const doc = read("docs/reference/registry.md");
    const messages = [
      'schemaVersion must be "v1"',
      "sprite_service loops require service.baseUrl or sprite.serviceBaseUrl",
      "contains unknown categories",
      "policy.autonomous.allow.categories contains unsupported categories",
      "policy.autonomous.allow.intents contains unsupported intents",
      "policy.autonomous.thresholds.minConfidence must be one of high, medium, low",
      "policy.autonomous.safety.maxActionsPerRun must be an integer >= 0 when present",
      "policy.autonomous.rollout.canaryPercent must be an integer between 0 and 100 when present",
      "policy.autonomous.rollout.scope.loopIds entries must reference declared loopIds",
      "policy.autonomous.rollout.autoPause.failureRateThreshold must be a number between 0 and 1 when present",
      "policy.autonomous.governance is required when policy.mode is guarded_auto",
      "policy.autonomous.governance.actor is required when policy.mode is guarded_auto",
      "policy.autonomous.governance.approvalRef is required when policy.mode is guarded_auto",
      "policy.autonomous.governance.changedAt must be an ISO-8601 timestamp when policy.mode is guarded_auto",
      "policy.autonomous.governance.reviewBy must be in the future when policy.mode is guarded_auto",
      "policy.autonomous.governance.approvedBy must differ from governance.actor",
    ];
    for (const message of messages) expect(doc, message).toContain(message);
  });

  it("documents every command, subcommand and option of the CLI in docs/reference/cli.md", () => {
    const doc = read("docs/reference/cli.md");
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: "/" };
    const program = buildProgram(io, () => undefined, {});
    type Command = ReturnType<typeof buildProgram>;
    const walk = (command: Command, path: string[]): void => {
      for (const option of command.options)
        if (option.long && !option.hidden) expect(doc, `${path.join(" ")} ${option.long}`).toContain(option.long);
      for (const sub of command.commands) {
        const words = [...path, sub.name()];
        expect(doc, words.join(" ")).toContain(`\`${words.join(" ")}`);
        walk(sub, words);
      }
    };
    walk(program, []);
  });
});
