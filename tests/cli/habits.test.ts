// The CLI as people used to git, kubectl or aws type it (issue "A CLI and an API that fit people's
// habits"): each reproduction of the issue, end to end through the built binary.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetStateDocument, guardedRegistry } from "@opsledger/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProcess } from "../run-node.ts";
import { fixtures, opsledger } from "./run.ts";

const bin = new URL("../../packages/cli/dist/bin.js", import.meta.url).pathname;
const version: string = JSON.parse(await readFile(new URL("../../packages/cli/package.json", import.meta.url), "utf8")).version;

let cwd: string;
let demo: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "opsledger-cli-habits-"));
  demo = join(cwd, "demo");
  expect((await opsledger(["demo", demo], { cwd, env: { OPSLEDGER_NOW: "2026-03-02T09:00:00Z" } })).code).toBe(0);
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** Runs the CLI on a real terminal (util-linux `script` gives it a pty), as a person at a shell sees it. */
async function onTerminal(args: string[], env: Record<string, string> = {}): Promise<{ code: number; screen: string }> {
  const command = ["node", bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const { code, stdout } = await runProcess("script", ["-qefc", command, "/dev/null"], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", HOME: cwd, USER: "operator", TERM: "xterm-256color", COLUMNS: "120", ...env },
  });
  return { code, screen: stdout };
}

const store = (name: string) => ["--store", join(cwd, name)];

describe("global options and help, as in git, kubectl and aws", () => {
  it("takes global options before the command, with = or a space, and after it", async () => {
    for (const args of [
      ["--store", demo, "status", "--json"],
      [`--store=${demo}`, "status", "--json"],
      ["status", "--json", "--store", demo],
      ["--json", "--fleet=default", "status", `--store=${demo}`],
    ]) {
      const run = await opsledger(args, { cwd });
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.json.ledger.seq).toBe(35);
    }
  });

  it("answers -h / --help on every command and command group, listing subcommands and every option with its default", async () => {
    const group = await opsledger(["registry"], { cwd });
    expect(group.code).toBe(0);
    expect(group.stdout).toContain("apply [options] <registry.json>");
    expect(group.stdout).toContain("preview <registry.json>");
    const groupHelp = await opsledger(["registry", "--help"], { cwd });
    expect(groupHelp.code).toBe(0);
    expect(groupHelp.stdout).toBe(group.stdout);
    const status = await opsledger(["status", "-h"], { cwd });
    expect(status.code).toBe(0); // not `no store at …`
    expect(status.stdout).toContain("--seq <n>");
    expect(status.stdout).toContain("--store <location>");
    expect(status.stdout).toContain("(default: $OPSLEDGER_STORE or ./.opsledger)");
    const dispatch = await opsledger(["help", "dispatch"], { cwd });
    expect(dispatch.stdout).toContain("(default: 30)");
    const alone = await opsledger([], { cwd });
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain("Usage: opsledger [options] [command]");
    expect(alone.stdout).toContain("5  dispatch completed, but some intents failed or were ambiguous");
  });

  it("keeps every help screen within 100 columns", async () => {
    const top = await opsledger(["--help"], { cwd });
    const names = [...top.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1] as string).filter((n) => n !== "help");
    expect(names).toEqual(expect.arrayContaining(["registry", "dispatch", "killswitch", "completion"]));
    const screens = [top.stdout];
    for (const name of names) screens.push((await opsledger([name, "--help"], { cwd })).stdout);
    for (const sub of [
      ["registry", "apply"],
      ["killswitch", "on"],
      ["rollout", "resume"],
      ["autopause", "resume"],
    ])
      screens.push((await opsledger([...sub, "--help"], { cwd })).stdout);
    for (const line of screens.join("\n").split("\n")) expect(line.length, line).toBeLessThanOrEqual(100);
  });

  it("prints the package's version for -V and --version", async () => {
    expect((await opsledger(["-V"], { cwd })).stdout.trim()).toBe(version);
    expect((await opsledger(["--version"], { cwd })).stdout.trim()).toBe(version);
  });

  it("answers an unknown command or option with the closest match, exit 2", async () => {
    const command = await opsledger(["stauts"], { cwd });
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'stauts'");
    expect(command.stderr).toContain("Did you mean status?");
    const sub = await opsledger(["registry", "aply", "x.json"], { cwd });
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("Did you mean apply?");
    const option = await opsledger(["status", "--sek", "3", "--store", demo], { cwd });
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Did you mean --seq?");
  });

  it("prints usage errors as JSON on stdout under --json, like every other error", async () => {
    const unknown = await opsledger(["stauts", "--json"], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.json).toEqual({
      ok: false,
      error: "unknown command 'stauts'",
      exitCode: 2,
      usage: true,
      hint: "(Did you mean status?)",
    });
    const missing = await opsledger(["killswitch", "on", "--json", "--store", demo], { cwd });
    expect(missing.json).toMatchObject({ ok: false, exitCode: 2, usage: true, error: expect.stringContaining("--actor") });
    const handler = await opsledger(["replay", "--until", "next tuesday", "--json", "--store", demo], { cwd });
    expect(handler.code).toBe(2);
    expect(handler.json).toMatchObject({ ok: false, exitCode: 2, usage: true });
  });
});

describe("shell completion", () => {
  // bash's own completion machinery: the script is sourced and asked as bash asks it on <Tab>
  async function complete(line: string): Promise<string[]> {
    const script = (await opsledger(["completion", "bash"], { cwd })).stdout;
    await writeFile(join(cwd, "completion.bash"), script);
    const words = line.split(" ");
    const probe = `source ${join(cwd, "completion.bash")}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_opsledger; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await runProcess("bash", ["--norc", "-c", probe]);
    return stdout.split("\n").filter(Boolean);
  }

  it("completes commands, subcommands, options and fixed values in bash", async () => {
    expect(await complete("opsledger st")).toEqual(["status"]);
    expect(await complete("opsledger registry ")).toEqual(["apply", "preview"]);
    expect(await complete("opsledger --store ./x killswitch o")).toEqual(["on", "off"]);
    expect(await complete("opsledger killswitch on --ra")).toEqual(["--rationale"]);
    expect(await complete("opsledger dispatch --con")).toEqual(["--confirm", "--control", "--control-timeout"]);
    expect(await complete("opsledger drill k")).toEqual(["kill-switch"]);
    expect(await complete("opsledger status --st")).toEqual(["--store"]);
  });

  it("prints zsh and fish scripts naming every command, and refuses another shell", async () => {
    const zsh = (await opsledger(["completion", "zsh"], { cwd })).stdout;
    expect(zsh.startsWith("#compdef opsledger")).toBe(true);
    const fish = (await opsledger(["completion", "fish"], { cwd })).stdout;
    for (const name of ["registry", "dispatch", "killswitch", "autopause", "completion"]) {
      expect(zsh).toContain(`'${name}:`);
      expect(fish).toContain(`-a '${name}'`);
    }
    expect(fish).toContain("-l review-by -r -F");
    const other = await opsledger(["completion", "powershell"], { cwd });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("Allowed choices are bash, zsh, fish");
  });
});

describe("progress people can read", () => {
  it("draws a bar with the total, percentage, rate and ETA of each phase on a terminal", async () => {
    const { code, screen } = await onTerminal(["verify", "--store", demo]);
    expect(code).toBe(0);
    // one phase: verify reads the log once, re-running decisions on the way
    expect(screen).toMatch(/verifying the chain and re-running decisions \[[^\]]*\] 100% 35\/35 records [\d,]+\/s ETA/);
    const status = await onTerminal(["status", "--store", demo]);
    expect(status.screen).toMatch(/reading and folding the log \[[^\]]*\] 100% 35\/35 records/);
  });

  it("draws nothing on a pipe or with --json", async () => {
    const piped = await opsledger(["verify", "--store", demo], { cwd });
    expect(piped.stderr).toBe("");
    const json = await onTerminal(["verify", "--store", demo, "--json"]);
    expect(json.screen).not.toContain("records");
  });

  it("colours the terminal unless NO_COLOR is set to something", async () => {
    expect((await onTerminal(["status", "--store", demo])).screen).toContain("\u001b[1m");
    expect((await onTerminal(["status", "--store", demo], { NO_COLOR: "" })).screen).toContain("\u001b[1m");
    expect((await onTerminal(["status", "--store", demo], { NO_COLOR: "1" })).screen).not.toContain("\u001b[1m");
  });
});

describe("one governance vocabulary; stopping is easy, resuming is governed", () => {
  it("engages the kill switch and pauses the rollout with who and why only; releasing and resuming need the approval", async () => {
    const dir = store("stop");
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    const on = await opsledger(["killswitch", "on", "--actor", "carol", "--rationale", "runaway", ...dir, "--json"], { cwd });
    expect(on.json).toMatchObject({ ok: true, changed: true });
    const off = await opsledger(["killswitch", "off", "--actor", "carol", "--rationale", "fixed", ...dir], { cwd });
    expect(off.code).toBe(2);
    expect(off.stderr).toContain("required option '--approval-ref <ref>' not specified");
    const pause = await opsledger(["rollout", "pause", "--actor", "bob", "--rationale", "release", ...dir], { cwd });
    expect(pause.code).toBe(0);
    const resume = await opsledger(["rollout", "resume", "--actor", "bob", "--approval-ref", "CAB-7", "--rationale", "done", ...dir], {
      cwd,
    });
    expect(resume.code).toBe(0);
    const audit = await opsledger(["audit", ...dir, "--json"], { cwd });
    expect(audit.json.map((e: { what: string; approvalRef: string | null }) => [e.what, e.approvalRef]).slice(1)).toEqual([
      ["kill switch engaged", null],
      ["rollout paused", null],
      ["rollout resumed", "CAB-7"],
    ]);
  });

  it("refuses deadlines that are not ISO-8601 times or are past, and --until, with exit 1 or 2 and nothing recorded", async () => {
    const dir = store("deadlines");
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    const stop = ["killswitch", "on", "--actor", "carol", "--rationale", "runaway", ...dir];
    for (const deadline of ["yesterday", "next tuesday", "2026-02-30T00:00:00Z", "2020-01-01T00:00:00Z"]) {
      const run = await opsledger([...stop, "--review-by", deadline, "--json"], { cwd });
      expect(run.code, deadline).toBe(1);
      expect(run.json.errors[0].message).toMatch(/^governance\.reviewBy must be/);
    }
    const until = await opsledger([...stop, "--until", "2026-03-02T00:00:00Z"], { cwd });
    expect(until.code).toBe(2);
    expect(until.stderr).toContain("--until is now --review-by");
    expect((await opsledger([...stop, "--at", "yesterday"], { cwd })).code).toBe(2);
    const status = await opsledger(["status", ...dir, "--json"], { cwd });
    expect(status.json.autonomous.safetyGateDecisions.killSwitch.operator).toBe(false);
  });
});

describe("dispatch", () => {
  async function evaluated(name: string): Promise<string[]> {
    const dir = store(name);
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    await opsledger(["observe", join(fixtures, "state.json"), ...dir], { cwd });
    await opsledger(["evaluate", ...dir], { cwd });
    return dir;
  }

  it("exits 5 when every intent failed, having recorded every outcome", async () => {
    const dir = await evaluated("failing");
    const run = await opsledger(["dispatch", "--autonomous", "--control", "exit 1", ...dir, "--json"], { cwd });
    expect(run.code).toBe(5);
    expect(run.json).toMatchObject({ ok: true, requestedIntentCount: 2, failedCount: 2 });
    expect((await opsledger(["verify", ...dir], { cwd })).code).toBe(0);
  });

  it("refuses to re-run an executed intent by hand unless --again", async () => {
    const dir = await evaluated("again");
    const intent = ["dispatch", "--intent", "loop-red:health_critical:cancel", "--confirm", "--control", "true", ...dir];
    expect((await opsledger(intent, { cwd })).code).toBe(0);
    const twice = await opsledger(intent, { cwd });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('intent "loop-red:health_critical:cancel" was already executed');
    expect((await opsledger([...intent, "--again"], { cwd })).code).toBe(0);
  });

  it("needs --by when $USER is unset, instead of recording 'unknown'", async () => {
    const dir = await evaluated("nobody");
    const run = await opsledger(["dispatch", "--autonomous", "--control", "true", ...dir], { cwd, env: { USER: "" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--by <who> is required");
  });

  it("refuses a --control-timeout past a day instead of wrapping it to 1 ms", async () => {
    const dir = await evaluated("timeout-range");
    const run = await opsledger(["dispatch", "--autonomous", "--control", "true", "--control-timeout", "2147484", ...dir], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("at most 86400");
  });

  it("keeps the control command's output: shown with --verbose, in --json, never in the log", async () => {
    const dir = await evaluated("output");
    const control = "echo cancelled $OPSLEDGER_LOOP_ID; echo a warning >&2";
    const verbose = await opsledger(["dispatch", "--autonomous", "--control", control, "--verbose", ...dir], { cwd });
    expect(verbose.stdout).toContain("    | cancelled loop-red\n    | a warning");
    await opsledger(["evaluate", ...dir], { cwd });
    const manual = ["dispatch", "--intent", "loop-sprite:health_degraded:cancel", "--confirm", "--control", control, "--json", ...dir];
    expect((await opsledger(manual, { cwd })).json.results[0].output).toBe("cancelled loop-sprite\na warning");
    const log = (await readdir(join(cwd, "output", "default"))).filter((f) => f.endsWith(".ndjson"));
    for (const file of log) expect(await readFile(join(cwd, "output", "default", file), "utf8")).not.toContain("cancelled loop");
  });

  it("explains an empty batch", async () => {
    const dir = await evaluated("empty");
    await opsledger(["dispatch", "--autonomous", "--control", "true", ...dir], { cwd });
    const again = await opsledger(["dispatch", "--autonomous", "--control", "true", ...dir], { cwd });
    expect(again.stdout).toContain("nothing to dispatch: no pending intent is auto-eligible (2 executed, 1 manual-only");
  });

  it("explains a dispatched intent as dispatched, not as waiting", async () => {
    const dir = await evaluated("explained");
    await opsledger(["dispatch", "--autonomous", "--control", "true", ...dir], { cwd });
    const run = await opsledger(["explain", "loop-red", ...dir], { cwd });
    expect(run.stdout).toContain("loop-red:health_critical → eligible; since dispatched: executed");
  });
});

describe("reading commands say what they cannot show", () => {
  it("refuses a fleet the store does not hold, naming the ones it does", async () => {
    const run = await opsledger(["status", "--fleet", "nope", "--store", demo], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no ledger "nope"');
    expect(run.stderr).toContain("its fleets: default");
  });

  it("refuses --seq and --until past the head instead of clamping", async () => {
    for (const args of [
      ["status", "--seq", "9999"],
      ["replay", "--until", "9999"],
    ]) {
      const run = await opsledger([...args, "--store", demo], { cwd });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("is past the end of the log (head seq 35)");
    }
  });

  it("computes the status text and JSON from one source", async () => {
    // seq 20 is AutoPauseResumed after a trip: the text may not say paused while the JSON says not
    const text = await opsledger(["status", "--seq", "20", "--store", demo], { cwd });
    const json = (await opsledger(["status", "--seq", "20", "--store", demo, "--json"], { cwd })).json;
    expect(json.autonomous.rollout.state).toMatchObject({ active: false, autoPauseActive: false });
    expect(text.stdout).toMatch(/^rollout: canary 25%.*cohort$/m);
    const dir = store("paused");
    await opsledger(["registry", "apply", join(fixtures, "registry.v1.json"), ...dir], { cwd });
    await opsledger(["observe", join(fixtures, "state.json"), ...dir], { cwd });
    await opsledger(["evaluate", ...dir], { cwd });
    await opsledger(["rollout", "pause", "--actor", "bob", "--rationale", "release", ...dir], { cwd });
    const paused = await opsledger(["status", ...dir], { cwd });
    expect(paused.stdout).toContain("paused (autonomous_rollout_paused_manual)");
    const pausedJson = (await opsledger(["status", ...dir, "--json"], { cwd })).json;
    expect(pausedJson.autonomous.rollout.state).toMatchObject({ active: true, manualPauseActive: true });
  });

  it("shows status and audit up to a break, names it, and exits 3", async () => {
    const broken = join(cwd, "broken");
    await cp(demo, broken, { recursive: true });
    const segment = join(broken, "default", (await readdir(join(broken, "default"))).find((f) => f.endsWith(".ndjson")) as string);
    const lines = (await readFile(segment, "utf8")).split("\n");
    // an edit of seq 15 that keeps its stored hash
    const line = JSON.parse(lines[14] as string);
    line.record.at = "2026-03-01T10:31:00.000Z";
    lines[14] = JSON.stringify(line);
    await writeFile(segment, lines.join("\n"));
    const status = await opsledger(["status", "--store", broken, "--json"], { cwd });
    expect(status.code).toBe(3);
    expect(status.json.ledger.seq).toBe(14);
    expect(status.json.chainBreak).toMatchObject({ seq: 15, kind: "hash_mismatch" });
    const audit = await opsledger(["audit", "--store", broken], { cwd });
    expect(audit.code).toBe(3);
    expect(audit.stdout).toContain("mode advisory → guarded_auto");
    expect(audit.stderr).toContain("the log is broken at seq 15 (hash_mismatch): showing it as of seq 14");
  });

  it("says 1 batch and 1 candidate", async () => {
    const dir = store("singular");
    await writeFile(join(cwd, "one.json"), JSON.stringify(guardedRegistry()));
    await writeFile(join(cwd, "one-state.json"), JSON.stringify(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }])));
    await opsledger(["registry", "apply", join(cwd, "one.json"), ...dir], { cwd });
    await opsledger(["observe", join(cwd, "one-state.json"), ...dir], { cwd });
    expect((await opsledger(["evaluate", ...dir], { cwd })).stdout).toContain(": 1 candidate, ");
    await opsledger(["dispatch", "--autonomous", "--control", "true", ...dir], { cwd });
    const status = await opsledger(["status", ...dir], { cwd });
    expect(status.stdout).toContain("all autonomous batches: 1 batch, ");
    expect(status.stdout).toContain("evaluation: 1 candidate, ");
  });
});

describe("input files", () => {
  it("reads - as standard input and accepts a UTF-8 byte-order mark", async () => {
    const dir = store("stdin");
    const registry = JSON.stringify(guardedRegistry());
    await writeFile(join(cwd, "bom.json"), `\uFEFF${registry}`);
    expect((await opsledger(["registry", "apply", join(cwd, "bom.json"), ...dir], { cwd })).code).toBe(0);
    const state = JSON.stringify(fleetStateDocument([{ loopId: "loop-red", healthStatus: "critical" }]));
    const piped = await runProcess("node", [bin, "observe", "-", ...dir], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", HOME: cwd },
      input: state,
    });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain("observed 1 loops at seq 3");
  });

  it("previews a registry with no store, creating nothing", async () => {
    const none = join(cwd, "no-store-here");
    const run = await opsledger(["registry", "preview", join(fixtures, "registry.v1.json"), "--store", none], { cwd });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("nothing was written");
    await expect(readdir(none)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a registry for another fleet", async () => {
    await writeFile(join(cwd, "prod.json"), JSON.stringify({ ...guardedRegistry(), fleetId: "prod" }));
    const run = await opsledger(["registry", "apply", join(cwd, "prod.json"), ...store("other-fleet")], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is for fleet "prod", not "default": pass --fleet prod');
    expect((await opsledger(["registry", "apply", join(cwd, "prod.json"), "--fleet", "prod", ...store("other-fleet")], { cwd })).code).toBe(
      0,
    );
  });

  it("refuses an s3:// location whose bucket is not a bucket name, or whose prefix is not a key prefix (exit 1, not 4: a typo)", async () => {
    for (const location of ["s3://../bucket", "s3://Bucket/x", "s3://ab", "s3://bucket/../x", "s3://bucket/a b", "s3://bucket/a//b"]) {
      const run = await opsledger(["status", "--store", location], { cwd });
      expect(run.code, location).toBe(1);
    }
    const typo = await opsledger(["status", "--store", "s3://bucket/fleets/prod 2"], { cwd });
    expect(typo.stderr).toMatch(/invalid key prefix "fleets\/prod 2"/);
  });
});
