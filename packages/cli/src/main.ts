import { isOpsledgerError } from "@opsledger/core";
import { type FlagKind, has, parseArgs } from "./args.ts";
import { demo } from "./commands/demo.ts";
import { ack, dispatch, evaluate, init, observe, operatorCommand, registryApply, registryPreview } from "./commands/fleet.ts";
import { audit, drill, explain, replay, status, verify } from "./commands/views.ts";
import { type Context, createContext, GLOBAL_FLAGS } from "./context.ts";
import { EXIT, exitCodeOf, RefusedError, UsageError } from "./exit-codes.ts";
import type { Io } from "./io.ts";

export { EXIT } from "./exit-codes.ts";
export type { Io } from "./io.ts";

interface Command {
  /** Reads only: refuses a store that does not exist instead of creating it. */
  readonly readOnly?: boolean;
  readonly usage: string;
  readonly summary: string;
  readonly flags: Readonly<Record<string, FlagKind>>;
  readonly run: (context: Context) => Promise<number>;
}

const GOVERNANCE = { actor: "string", "approval-ref": "string", rationale: "string", until: "string" } as const;

const COMMANDS: Record<string, Command> = {
  init: { usage: "init", summary: "create the fleet's ledger", flags: {}, run: init },
  "registry apply": {
    usage: "registry apply <registry.json> [--actor --approval-ref --rationale --review-by --approved-by]",
    summary: "validate and record a registry v1 (fails closed on governance)",
    flags: { actor: "string", "approval-ref": "string", rationale: "string", "review-by": "string", "approved-by": "string" },
    run: registryApply,
  },
  "registry preview": {
    readOnly: true,
    usage: "registry preview <registry.json>",
    summary: "cohort and eligibility changes, nothing written",
    flags: {},
    run: registryPreview,
  },
  observe: {
    usage: "observe <fleet-state.json> [--trace-id]",
    summary: "record a reconcile result (fleet state v1)",
    flags: { "trace-id": "string" },
    run: observe,
  },
  evaluate: {
    usage: "evaluate [--trace-id]",
    summary: "evaluate the last observation against the policy",
    flags: { "trace-id": "string" },
    run: evaluate,
  },
  dispatch: {
    usage: 'dispatch (--autonomous | --intent <id>... --confirm) --control "<cmd>" [--by] [--note] [--control-timeout <s>]',
    summary: "carry out intents through a control command",
    flags: {
      autonomous: "boolean",
      intent: "repeat",
      confirm: "boolean",
      control: "string",
      by: "string",
      note: "string",
      "control-timeout": "string",
    },
    run: dispatch,
  },
  killswitch: {
    usage: "killswitch on|off --actor --approval-ref --rationale [--until]",
    summary: "engage or release the operator kill switch",
    flags: GOVERNANCE,
    run: operatorCommand({ on: "engageKillSwitch", off: "releaseKillSwitch" }, "killswitch"),
  },
  rollout: {
    usage: "rollout pause|resume --actor --approval-ref --rationale [--until]",
    summary: "pause or resume the autonomous rollout",
    flags: GOVERNANCE,
    run: operatorCommand({ pause: "pauseRollout", resume: "resumeRollout" }, "rollout"),
  },
  autopause: {
    usage: "autopause resume --actor --approval-ref --rationale",
    summary: "clear the auto-pause latch (audited)",
    flags: GOVERNANCE,
    run: operatorCommand({ resume: "resumeAutoPause" }, "autopause"),
  },
  ack: {
    usage: "ack <intentId> --by <who> [--note]",
    summary: "acknowledge an ambiguous or failed intent",
    flags: { by: "string", note: "string" },
    run: ack,
  },
  status: {
    readOnly: true,
    usage: "status [--seq N]",
    summary: "fleet status (superloop-compatible JSON with --json)",
    flags: { seq: "string" },
    run: status,
  },
  explain: {
    readOnly: true,
    usage: "explain <loopId | candidateId | intentId>",
    summary: "why each candidate is where it is, gate by gate",
    flags: {},
    run: explain,
  },
  audit: { readOnly: true, usage: "audit", summary: "governance timeline: who, when, what, why, until", flags: {}, run: audit },
  verify: { readOnly: true, usage: "verify", summary: "verify the chain and re-run every recorded decision", flags: {}, run: verify },
  replay: {
    readOnly: true,
    usage: "replay --until <seq | ISO time>",
    summary: "the fleet status as it was",
    flags: { until: "string" },
    run: replay,
  },
  drill: {
    usage: "drill kill-switch | sprite-service-outage | ambiguous-retry-guard | all",
    summary: "run incident drills and record them",
    flags: {},
    run: drill,
  },
  demo: {
    usage: "demo [dir]",
    summary: "a scripted day of a simulated fleet, on a filesystem store (./.opsledger-demo)",
    flags: {},
    run: demo,
  },
};

function help(io: Io): void {
  const lines = [
    "opsledger — guarded autonomous remediation with a hash-chained audit log",
    "",
    "usage: opsledger <command> [flags]",
    "",
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(64)} ${c.summary}`),
    "",
    "every command takes:",
    "  --store <dir | s3://bucket/prefix>   default ./.opsledger (S3 endpoint and credentials from the AWS environment)",
    "  --fleet <id>                         default default",
    "  --at <ISO time>                      the clock for this command (or OPSLEDGER_NOW)",
    "  --json                               machine-readable output",
    "",
    "exit codes: 0 ok, 1 refused or invalid input, 2 usage, 3 verification found a break, 4 store unavailable or conflict",
  ];
  io.stdout.write(`${lines.join("\n")}\n`);
}

/** Runs the CLI and returns its exit code; never throws, never prints a stack trace for user errors. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const words = argv.filter((a) => !a.startsWith("--"));
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "help" || argv[0] === "-h") {
    help(io);
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  if (argv[0] === "--version") {
    io.stdout.write("opsledger 0.1.0\n");
    return EXIT.ok;
  }
  const two = `${argv[0]} ${argv[1] ?? ""}`;
  const name = COMMANDS[two] ? two : (argv[0] as string);
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`opsledger: unknown command ${JSON.stringify(words[0] ?? argv[0])} (see opsledger --help)\n`);
    return EXIT.usage;
  }
  const rest = argv.slice(name.split(" ").length);
  let context: Context | undefined;
  let json = rest.includes("--json");
  try {
    const parsed = parseArgs(rest, { ...GLOBAL_FLAGS, ...command.flags });
    json = has(parsed, "json");
    if (has(parsed, "help")) {
      io.stdout.write(`usage: opsledger ${command.usage}\n${command.summary}\n`);
      return EXIT.ok;
    }
    context = createContext(io, parsed, command.readOnly === true);
    return await command.run(context);
  } catch (error) {
    const code = exitCodeOf(error);
    const message = describe(error);
    if (json && !(error instanceof UsageError)) {
      const issues = error instanceof RefusedError ? error.issues : [];
      io.stdout.write(`${JSON.stringify({ ok: false, error: message, ...(issues.length ? { errors: issues } : {}) }, null, 2)}\n`);
    }
    io.stderr.write(`opsledger ${name}: ${message}\n`);
    if (error instanceof RefusedError) {
      for (const issue of error.issues)
        io.stderr.write(`  - ${issue.message.startsWith(issue.path) ? issue.message : `${issue.path}: ${issue.message}`}\n`);
    }
    if (error instanceof UsageError) io.stderr.write(`usage: opsledger ${command.usage}\n`);
    if (!(error instanceof UsageError || error instanceof RefusedError || isOpsledgerError(error)) && io.env["OPSLEDGER_DEBUG"]) {
      io.stderr.write(`${(error as Error).stack}\n`);
    }
    return code;
  } finally {
    await context?.close().catch(() => undefined);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
