import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runProcess } from "../run-node.ts";
import { docSteps, mismatch } from "./doc-commands.ts";

// Every command block of docs/ runs as written, from the repository root, and prints what the page
// shows: a doc that drifts from the CLI fails here. `npx opsledger` runs the built CLI.
const root = new URL("../../", import.meta.url).pathname;
const bin = join(root, "packages/cli/dist/bin.js");
const docsDir = join(root, "docs");
// the folder the tutorial has its reader make in the repository (gitignored)
const scratch = join(root, ".opsledger-tutorial");

async function markdownFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? markdownFiles(join(dir, e.name)) : Promise.resolve(e.name.endsWith(".md") ? [join(dir, e.name)] : []),
    ),
  );
  return nested.flat().sort();
}

const pages = await Promise.all(
  (await markdownFiles(docsDir)).map(async (path) => ({ path, steps: docSteps(await readFile(path, "utf8")) })),
);

const temporary: string[] = [];
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Shell {
  cwd: string;
  env: Record<string, string>;
}

// one command in bash, its stdout and stderr in one stream as a terminal shows them; `cd` and
// `export` carry over to the next command, as in the reader's shell
async function run(shell: Shell, command: string, stateDir: string): Promise<{ code: number; output: string }> {
  const script = `exec 2>&1
cd "$DOC_CWD" || exit 99
unset DOC_CWD
eval "$DOC_COMMAND"
status=$?
unset DOC_COMMAND
pwd > "$DOC_STATE/cwd"
env -0 > "$DOC_STATE/env"
exit $status`;
  const { code, stdout } = await runProcess("bash", ["-c", script], {
    cwd: root,
    env: { ...shell.env, DOC_CWD: shell.cwd, DOC_COMMAND: command.replaceAll("npx opsledger", `node ${bin}`), DOC_STATE: stateDir },
  });
  return { code, output: stdout };
}

async function carryOver(shell: Shell, stateDir: string): Promise<void> {
  shell.cwd = (await readFile(join(stateDir, "cwd"), "utf8")).trim();
  const env: Record<string, string> = {};
  for (const entry of (await readFile(join(stateDir, "env"), "utf8")).split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0 && !["PWD", "OLDPWD", "SHLVL", "_", "DOC_STATE"].includes(entry.slice(0, eq))) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  shell.env = env;
}

describe("docs: every command block runs as written and prints what the page shows", () => {
  for (const { path, steps } of pages.filter((p) => p.steps.some((s) => s.kind === "command"))) {
    it(relative(root, path), { timeout: 180_000 }, async () => {
      await rm(scratch, { recursive: true, force: true });
      const home = await mkdtemp(join(tmpdir(), "opsledger-docs-"));
      temporary.push(home);
      const stateDir = await mkdtemp(join(tmpdir(), "opsledger-docs-state-"));
      temporary.push(stateDir);
      // a reader's shell: their PATH, a home, a user name; temporary files stay in this test's folder
      const shell: Shell = { cwd: root, env: { PATH: process.env["PATH"] ?? "", HOME: home, USER: "you", TMPDIR: home } };
      for (const step of steps) {
        const where = `${relative(root, path)}:${step.line}`;
        if (step.kind === "file") {
          await writeFile(join(shell.cwd, step.name), step.text, { mode: step.name.endsWith(".sh") ? 0o755 : 0o644 });
          continue;
        }
        const { code, output } = await run(shell, step.command, stateDir);
        expect(code, `${where}: $ ${step.command}\n${output}`).toBe(step.exitCode);
        await carryOver(shell, stateDir);
        expect(mismatch(step.expected, output), `${where}: $ ${step.command}\nprinted:\n${output}`).toBeNull();
      }
    });
  }
});

describe("docs: the command the docs use", () => {
  it("`npx opsledger` runs the repository's CLI from its root and from a folder inside it", { timeout: 60_000 }, async () => {
    const version = JSON.parse(await readFile(join(root, "packages/cli/package.json"), "utf8")).version;
    const env = { PATH: process.env["PATH"] ?? "", HOME: tmpdir() };
    const npx = async (cwd: string) => (await runProcess("npx", ["--no-install", "opsledger", "--version"], { cwd, env })).stdout.trim();
    expect(await npx(root)).toBe(version);
    expect(await npx(join(root, "docs"))).toBe(version);
  });
});
