// `@opsledger/core/testing` is for every user's tests, including those without fast-check: its
// plain helpers load with fast-check unresolvable; the arbitraries live in `…/testing/property`.
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runNode } from "../run-node.ts";

const testsDir = new URL("../", import.meta.url).pathname;

// a module-resolution hook that makes fast-check absent, as in a project that never installed it
const withoutFastCheck = `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(\`export async function resolve(specifier, context, next) {
  if (specifier === "fast-check" || specifier.startsWith("fast-check/")) {
    throw Object.assign(new Error("Cannot find package 'fast-check'"), { code: "ERR_MODULE_NOT_FOUND" });
  }
  return next(specifier, context);
}\`));
`;

async function importWithoutFastCheck(specifier: string, use: string) {
  const hook = join(tmpdir(), `opsledger-no-fast-check-${process.pid}.mjs`);
  const script = join(testsDir, `.import-probe-${process.pid}-${specifier.replace(/\W/g, "-")}.mjs`);
  await writeFile(hook, withoutFastCheck);
  await writeFile(
    script,
    `import(${JSON.stringify(specifier)}).then((m) => { ${use} }).catch((e) => { console.log("FAILED", e.code); process.exit(1); });\n`,
  );
  try {
    return await runNode(script, [], { cwd: testsDir, env: { PATH: process.env["PATH"] ?? "", NODE_OPTIONS: `--import=${hook}` } });
  } finally {
    const { rm } = await import("node:fs/promises");
    await rm(script, { force: true });
    await rm(hook, { force: true });
  }
}

describe("@opsledger/core/testing", () => {
  it("gives fixedClock and sequentialIds without fast-check installed", async () => {
    const run = await importWithoutFastCheck(
      "@opsledger/core/testing",
      `const clock = m.fixedClock("2026-03-01T00:00:00Z"); console.log(clock.now().toISOString(), m.sequentialIds("x").next());`,
    );
    expect(run.stdout.trim()).toBe("2026-03-01T00:00:00.000Z x-000001");
    expect(run.code).toBe(0);
  });

  it("keeps the arbitraries in @opsledger/core/testing/property, which needs fast-check", async () => {
    const run = await importWithoutFastCheck("@opsledger/core/testing/property", `console.log(typeof m.arbitraryRegistry);`);
    expect(run.stdout.trim()).toBe("FAILED ERR_MODULE_NOT_FOUND");
    const { arbitraryRegistry } = await import("@opsledger/core/testing/property");
    expect(typeof arbitraryRegistry).toBe("function");
  });
});
