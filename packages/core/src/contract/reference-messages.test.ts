import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { safeParseRegistry } from "./registry.ts";

// What the reference (superloop's ops-manager-fleet-registry.sh under jq 1.6) printed for a table
// of documents: facts recorded by scripts/record-reference-registry.mjs, so this suite needs
// neither jq nor the reference scripts. The rule (semantics.md §1): every message the reference
// prints is among ours verbatim, the same documents are accepted and normalize the same, except
// where a row of semantics.md §2 says otherwise.

type Verdict =
  | { status: "accepted"; normalized: unknown }
  | { status: "rejected"; messages: string[] }
  | { status: "aborted"; stderr: string };
interface Case {
  name: string;
  document: unknown;
  reference: Verdict;
  intended?: { row: number; opsledger: "accepted" | "rejected" };
}
const record: { recordedAt: string; templates: string[]; cases: Case[] } = JSON.parse(
  readFileSync(new URL("./testdata/reference-registry.json", import.meta.url), "utf8"),
);
// the reference decided "in the future" against its clock when the table was recorded
const now = record.recordedAt;

/** Our normalized registry without the fields opsledger adds, where they hold their defaults. */
function withoutNewDefaults(registry: unknown): unknown {
  const copy = structuredClone(registry) as {
    policy: { autonomous: { rollout: { selector: Record<string, unknown> }; governance: Record<string, unknown> } };
  };
  const { selector } = copy.policy.autonomous.rollout;
  if (selector["hashVersion"] === 1) delete selector["hashVersion"];
  if (selector["mode"] === "percent") delete selector["mode"];
  if (copy.policy.autonomous.governance["requireDistinctApprover"] === false)
    delete copy.policy.autonomous.governance["requireDistinctApprover"];
  return copy;
}

describe("registry validation measured against the reference's own output", () => {
  for (const { name, document, reference, intended } of record.cases) {
    const verdict = reference.status === "accepted" ? "accepted" : "rejected"; // jq aborting is a refusal too
    const title = intended ? `${name}: ${intended.opsledger} by design (semantics §2 row ${intended.row})` : `${name}: ${verdict}`;
    it(title, () => {
      const result = safeParseRegistry(document, { now });
      expect(result.ok ? "accepted" : "rejected", JSON.stringify(result.ok ? "" : result.errors)).toBe(intended?.opsledger ?? verdict);
      if (reference.status === "rejected" && !result.ok) {
        expect(result.errors.map((issue) => issue.message)).toEqual(expect.arrayContaining(reference.messages));
      }
      if (reference.status === "accepted" && result.ok && !intended) {
        expect(withoutNewDefaults(result.registry)).toEqual(reference.normalized);
      }
    });
  }

  it("covers every message template of the reference, or shows jq stopping before it can print it", () => {
    const printed = record.cases.flatMap(({ reference }) => (reference.status === "rejected" ? reference.messages : []));
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    // `\($i)` and `\($supp_key)` are jq interpolations: a loop index, a suppression key
    const pattern = (template: string) =>
      new RegExp(
        `^${template
          .split(/\\\(\$(?:i|supp_key)\)/)
          .map(literal)
          .join(".+")}$`,
      );
    const uncovered = record.templates.filter((template) => !printed.some((message) => pattern(template).test(message)));
    // "X must be an object when present" is dead in jq 1.6: indexing a non-object X aborts the whole
    // program first (`//` does not catch it). Each such template needs a recorded abort on X.
    const aborted = record.cases.filter(({ reference }) => reference.status === "aborted").map(({ document }) => document);
    const abortsOn = (path: string) =>
      aborted.some((document) => {
        const loops = (document as { loops?: unknown[] }).loops ?? [];
        const values = path.startsWith("loops[*].")
          ? loops.map((loop) => valueAt(loop, path.slice("loops[*].".length)))
          : [valueAt(document, path)];
        return values.some((value) => value !== undefined && value !== null && (typeof value !== "object" || Array.isArray(value)));
      });
    const unexplained = uncovered.filter((template) => {
      const object = /^(?:loops\[\\\(\$i\)\]: )?(\S+) must be an object when present$/.exec(template);
      return !object?.[1] || !abortsOn(template.startsWith("loops[") ? `loops[*].${object[1]}` : object[1]);
    });
    expect(record.templates.length).toBeGreaterThanOrEqual(70);
    expect(unexplained).toEqual([]);
  });
});

function valueAt(value: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>(
      (node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined),
      value,
    );
}
