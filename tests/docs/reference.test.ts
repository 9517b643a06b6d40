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

  it("documents every validation message the reference has, verbatim", () => {
    const doc = read("docs/reference/registry.md");
    // the templates cut from ops-manager-fleet-registry.sh (scripts/record-reference-registry.mjs)
    const { templates } = JSON.parse(read("packages/core/src/contract/testdata/reference-registry.json")) as { templates: string[] };
    const spelled = templates.map((template) => template.replaceAll("\\($i)", "i").replaceAll("\\($supp_key)", "<key>"));
    expect(spelled.length).toBeGreaterThanOrEqual(70);
    for (const message of spelled) expect(doc, message).toContain(`\`${message}\``);
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
