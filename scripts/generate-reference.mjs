// Writes the generated reference files under docs/reference from the built core.
// Run with `pnpm docs:generate` after changing a schema or the reason-code table; a test fails while they are stale.
import { writeFileSync } from "node:fs";
import { REASON_CODES, registryJsonSchema } from "../packages/core/dist/index.js";

export function reasonCodesMarkdown() {
  const lines = [
    "# Reason codes",
    "",
    "Generated from `packages/core/src/fleet/reason-codes.ts` by `pnpm docs:generate`; do not edit by hand.",
    "",
    "Every string of the reference (superloop's ops-manager) is spelled exactly; codes marked *opsledger* are new.",
    "Arrays of reason codes are always sorted (by code point) and free of duplicates. The family is the",
    "status bucket a code counts in (`autonomous.safetyGateDecisions.byPath`): policy, rollout, governance,",
    "transport (outcomes of sprite_service intents), or other.",
    "",
    "| code | family | group | condition | origin |",
    "|---|---|---|---|---|",
  ];
  for (const d of REASON_CODES)
    lines.push(`| \`${d.code}\` | ${d.family} | ${d.group} | ${d.condition.replaceAll("|", "\\|")} | ${d.origin} |`);
  return `${lines.join("\n")}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const write = (name, text) => {
    const target = new URL(`../docs/reference/${name}`, import.meta.url);
    writeFileSync(target, text);
    console.log(`wrote ${target.pathname}`);
  };
  write("registry.schema.json", `${JSON.stringify(registryJsonSchema(), null, 2)}\n`);
  write("reason-codes.md", reasonCodesMarkdown());
}
