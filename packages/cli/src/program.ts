import { readFileSync } from "node:fs";
import { DRILL_IDS } from "@opsledger/core";
import { Argument, Command, Option, type OutputConfiguration } from "commander";
import { completion } from "./commands/completion.ts";
import { demo } from "./commands/demo.ts";
import { ack, dispatch, evaluate, init, observe, operatorCommand, registryApply, registryPreview } from "./commands/fleet.ts";
import { checkpoint, keysGenerate, prove, verifyBundleCommand } from "./commands/proof.ts";
import { report } from "./commands/report.ts";
import { audit, drill, explain, replay, status, verify } from "./commands/views.ts";
import { type Context, createContext } from "./context.ts";
import { invocationOf } from "./invocation.ts";
import type { Io } from "./io.ts";

/** The CLI's version: the one in its package.json (src/ and dist/ sit beside it). */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

/** Help fits 100 columns, or the terminal when it is narrower. */
const HELP_WIDTH = 100;

type Handler = (context: Context) => Promise<number>;

/**
 * The command tree, on commander: global options anywhere on the line, `--opt=value`, `-h` on
 * every command and group, closest-match suggestions. Each action opens a context (store, clock,
 * output) for its handler and reports the handler's exit code through `done`.
 */
export function buildProgram(io: Io, done: (code: number) => void, output: OutputConfiguration): Command {
  const width = Math.min(HELP_WIDTH, io.stdout.columns ?? HELP_WIDTH);
  const run =
    (handler: Handler, readOnly = false) =>
    async (...params: unknown[]) => {
      const command = params.at(-1) as Command;
      const context = createContext(io, invocationOf(command.processedArgs, command.optsWithGlobals()), readOnly);
      try {
        done(await handler(context));
      } finally {
        await context.close().catch(() => undefined);
      }
    };
  const configure = (command: Command): Command =>
    command
      .exitOverride()
      .configureOutput(output)
      .showSuggestionAfterError(true)
      .configureHelp({ helpWidth: width, showGlobalOptions: true, sortSubcommands: false });

  const program = configure(new Command("opsledger"))
    .description("guarded autonomous remediation with a hash-chained audit log")
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .helpCommand("help [command]", "show help for a command")
    .option("--store <location>", "a directory or s3://bucket/prefix (default: $OPSLEDGER_STORE or ./.opsledger)")
    .option("--fleet <id>", "the fleet's ledger (default: default)")
    .option("--at <time>", "the clock for this command, an ISO-8601 time (default: $OPSLEDGER_NOW or now)")
    .option("--json", "machine-readable output on stdout, errors included")
    .addHelpText("after", EXIT_CODES_HELP);
  const sub = (parent: Command, name: string, summary: string): Command =>
    configure(parent.command(name)).description(summary).helpOption("-h, --help", "show help for this command");
  const group = (name: string, summary: string): Command => sub(program, name, summary).helpCommand(false);

  sub(program, "init", "create the fleet's ledger").action(run(init));

  const registry = group("registry", "validate, preview and record a registry v1");
  sub(registry, "apply", "validate and record a registry v1 (governance fails closed)")
    .argument("<registry.json>", "the registry file, or - for standard input")
    .option("--actor <who>", "governance: who made the change (overrides the file)")
    .option("--approval-ref <ref>", "governance: the approval, e.g. a change ticket")
    .option("--rationale <why>", "governance: why")
    .option("--review-by <time>", "governance: the review deadline, an ISO-8601 time")
    .option("--approved-by <who>", "governance: who approved (must differ from the actor when required)")
    .action(run(registryApply));
  sub(registry, "preview", "cohort and eligibility changes of a registry; writes nothing")
    .argument("<registry.json>", "the registry file, or - for standard input")
    .action(run(registryPreview));

  sub(program, "observe", "record a reconcile result (fleet state v1)")
    .argument("<fleet-state.json>", "the fleet state file, or - for standard input")
    .option("--trace-id <id>", "the reconcile's trace id (default: the file's traceId)")
    .action(run(observe));
  sub(program, "evaluate", "evaluate the last observation against the policy")
    .option("--trace-id <id>", "the trace id to record")
    .action(run(evaluate));
  sub(program, "dispatch", "carry out intents through a control command")
    .addOption(new Option("--autonomous", "the auto-eligible intents, every gate re-checked now").conflicts("intent"))
    .option("--intent <id...>", "manual: the intents to carry out (repeat, or list them)")
    .option("--confirm", "manual: confirm the named intents")
    .option("--again", "manual: run intents that were already executed again")
    .requiredOption("--control <command>", "run through /bin/sh once per intent, the intent as JSON on stdin")
    .option("--by <who>", "who dispatches (default: $USER; required when $USER is unset)")
    .option("--note <text>", "a note recorded with the batch")
    .option("--control-timeout <seconds>", "kill the control command after this long, at most 86400 (default: 30)")
    .option("--verbose", "print each control command's output")
    .action(run(dispatch));

  const governanceOptions = (command: Command, approvalRequired: boolean): Command =>
    command
      .requiredOption("--actor <who>", "who did it")
      .requiredOption("--rationale <why>", "why")
      .addOption(
        approvalRequired
          ? new Option("--approval-ref <ref>", "the approval, e.g. a change ticket").makeOptionMandatory()
          : new Option("--approval-ref <ref>", "the approval, if there is one (not required to stop autonomy)"),
      )
      .option("--review-by <time>", "when to look at this again, an ISO-8601 time after now")
      .addOption(new Option("--until <time>").hideHelp());
  const operator = (
    name: string,
    summary: string,
    verbs: readonly (readonly [verb: string, summary: string, action: Parameters<typeof operatorCommand>[0], approval: boolean])[],
  ) => {
    const parent = group(name, summary);
    for (const [verb, verbSummary, action, approval] of verbs)
      governanceOptions(sub(parent, verb, verbSummary), approval).action(run(operatorCommand(action, `${name} ${verb}`)));
  };
  operator("killswitch", "engage or release the operator kill switch", [
    ["on", "stop all autonomous dispatch (needs who and why)", "engageKillSwitch", false],
    ["off", "release the kill switch (full governance)", "releaseKillSwitch", true],
  ]);
  operator("rollout", "pause or resume the autonomous rollout", [
    ["pause", "pause autonomous dispatch (needs who and why)", "pauseRollout", false],
    ["resume", "resume the rollout (full governance)", "resumeRollout", true],
  ]);
  operator("autopause", "clear the auto-pause latch", [["resume", "clear the latch (full governance)", "resumeAutoPause", true]]);

  sub(program, "ack", "acknowledge an ambiguous or failed intent")
    .argument("<intentId>", "the intent")
    .requiredOption("--by <who>", "who acknowledges")
    .option("--note <text>", "why")
    .action(run(ack));
  sub(program, "status", "fleet status (superloop-compatible JSON with --json)")
    .option("--seq <n>", "the status as of this seq")
    .action(run(status, true));
  sub(program, "explain", "why each candidate is where it is, gate by gate")
    .argument("<subject>", "a loopId, candidateId or intentId")
    .action(run(explain, true));
  sub(program, "audit", "governance timeline: who, when, what, why, review by").action(run(audit, true));
  const repeatable = (value: string, previous: string[] = []): string[] => [...previous, value];
  sub(program, "verify", "verify the chain and re-run every recorded decision, against trusted anchors")
    .option(
      "--checkpoint <file|dir>",
      "a signed checkpoint the log must extend, or a folder of them: a directory or s3://bucket/prefix (repeatable)",
      repeatable,
    )
    .option("--key <vkey|file>", "a verifier key trusted to sign checkpoints, or a file of them (repeatable)", repeatable)
    .option("--expect-head <seq:hash>", "a head kept elsewhere the log must extend")
    .option("--no-remember", "neither check against nor update the checkpoint this verifier remembers")
    .action(run(verify, true));
  const keys = group("keys", "signing keys for checkpoints");
  sub(keys, "generate", "an Ed25519 signing key and its C2SP verifier key")
    .requiredOption("--out <file>", "where the signing key goes (never overwritten, owner-only)")
    .option("--name <name>", "the key name, which checkpoints' origin matches (default: opsledger/<fleet>)")
    .action(run(keysGenerate));
  sub(program, "checkpoint", "sign a checkpoint of the log (C2SP tlog-checkpoint in a signed note)")
    .option("--key <file>", "the signing key file (default: $OPSLEDGER_SIGNING_KEY, the key itself)")
    .option("--out <file|dir>", "a file, or a folder apart from the store: a directory or s3://bucket/prefix (default: stdout)")
    .action(run(checkpoint, true));
  sub(program, "prove", "an offline proof bundle: a record, its inclusion proof and a signed checkpoint")
    .argument("<seq>", "the record to prove")
    .requiredOption("--out <file>", "where the bundle goes")
    .option("--checkpoint <file>", "prove against this signed checkpoint (default: sign one of the log now)")
    .option("--key <vkey|file>", "a verifier key of --checkpoint (repeatable)", repeatable)
    .option("--signing-key <file>", "sign the checkpoint with this key (default: $OPSLEDGER_SIGNING_KEY)")
    .option("--older <file>", "an older signed checkpoint: the bundle also proves the log extends it")
    .action(run(prove, true));
  sub(program, "verify-bundle", "check a proof bundle with no store")
    .argument("<bundle>", "the bundle file")
    .requiredOption("--key <vkey|file>", "a trusted verifier key (repeatable)", repeatable)
    .action(run(verifyBundleCommand, true));
  sub(program, "replay", "the fleet status as it was")
    .requiredOption("--until <seq|time>", "a seq, or an ISO-8601 time")
    .action(run(replay, true));
  sub(program, "report", "a self-contained HTML investigation report of the log, as verified")
    .requiredOption("--out <file>", "where the HTML file goes (e.g. report.html)")
    .option("--until <seq|time>", "show the log as of a seq, or an ISO-8601 time (default: its head)")
    .option("--checkpoint <file|dir>", "a signed checkpoint the log must extend, or a folder of them (repeatable)", repeatable)
    .option("--key <vkey|file>", "a verifier key trusted to sign checkpoints, or a file of them (repeatable)", repeatable)
    .option("--expect-head <seq:hash>", "a head kept elsewhere the log must extend")
    .action(run(report, true));
  sub(program, "drill", "run incident drills and record them")
    .addArgument(new Argument("<drill>", "the drill").choices([...DRILL_IDS.map((id) => id.replace(/_/g, "-")), "all"]))
    .action(run(drill));
  sub(program, "demo", "a scripted day of a simulated fleet, on a filesystem store")
    .argument("[dir]", "where the demo's log goes", "./.opsledger-demo")
    .action(run(demo));
  sub(program, "completion", "print a shell completion script")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh", "fish"]))
    .addHelpText("after", COMPLETION_HELP)
    .action((shell: string, _options: unknown, command: Command) => {
      io.stdout.write(completion(shell as "bash" | "zsh" | "fish", command.parent as Command));
      done(0);
    });
  return program;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  refused or invalid input (every message is printed)
  2  usage: unknown command or flag, missing argument
  3  verification found a break
  4  store unavailable, or a conflict after retries
  5  dispatch completed, but some intents failed or were ambiguous`;

const COMPLETION_HELP = `
Install:
  bash  opsledger completion bash > ~/.local/share/bash-completion/completions/opsledger
  zsh   opsledger completion zsh > "\${fpath[1]}/_opsledger"
  fish  opsledger completion fish > ~/.config/fish/completions/opsledger.fish`;
