import { type Issue, isOpsledgerError, ROOT_PATH, UnprovableLogError } from "@opsledger/core";
import { CommanderError } from "commander";
import { EXIT, exitCodeOf, RefusedError, UsageError } from "./exit-codes.ts";
import { breakLine, type Io } from "./io.ts";
import { buildProgram } from "./program.ts";

export { EXIT } from "./exit-codes.ts";
export type { Io } from "./io.ts";

/** Runs the CLI and returns its exit code; never throws, never prints a stack trace for user errors. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const json = argv.includes("--json");
  let code: number = EXIT.ok;
  // commander's own error line, kept so it is said once, in our words and (with --json) as JSON
  let commanderError = "";
  let helpOnStderr = "";
  const program = buildProgram(
    io,
    (exitCode) => {
      code = exitCode;
    },
    {
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => {
        helpOnStderr += text;
      },
      outputError: (text) => {
        commanderError = text;
      },
    },
  );
  const words = commandWords(program, argv);
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version were printed on stdout
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
      // `opsledger` or `opsledger registry` alone: the help a user asked for, on stdout
      if (error.code === "commander.help") {
        io.stdout.write(helpOnStderr);
        return EXIT.ok;
      }
      const [message = error.message, ...hints] = (commanderError || error.message)
        .trim()
        .replace(/^error: /, "")
        .split("\n");
      return report(io, json, words, new UsageError(message), hints.join(" "));
    }
    return report(io, json, words, error);
  }
}

/** Prints an error the way every command does: a line on stderr, and under --json a JSON object on stdout. */
function report(io: Io, json: boolean, words: string, error: unknown, hint = ""): number {
  const code = exitCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const issues = error instanceof RefusedError ? error.issues : [];
  const breaks = error instanceof UnprovableLogError ? error.breaks : [];
  const usage = error instanceof UsageError ? `see opsledger ${words ? `${words} ` : ""}--help` : "";
  if (json) {
    const body = {
      ok: false,
      error: message,
      exitCode: code,
      ...(error instanceof UsageError ? { usage: true } : {}),
      ...(isOpsledgerError(error) ? { code: error.code } : {}),
      ...(hint ? { hint } : {}),
      ...(issues.length ? { errors: issues } : {}),
      ...(breaks.length ? { breaks } : {}),
    };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  }
  io.stderr.write(`opsledger${words ? ` ${words}` : ""}: ${message}\n`);
  for (const issue of issues) io.stderr.write(`  - ${issueLine(issue)}\n`);
  for (const b of breaks) io.stderr.write(`${breakLine(b)}\n`);
  if (hint) io.stderr.write(`${hint}\n`);
  if (usage) io.stderr.write(`${usage}\n`);
  if (!(error instanceof UsageError || error instanceof RefusedError || isOpsledgerError(error)) && io.env["OPSLEDGER_DEBUG"]) {
    io.stderr.write(`${(error as Error).stack}\n`);
  }
  return code;
}

/** An issue as a person reads it: the message (its path in front when the message does not name it), the detail beside it. */
function issueLine(issue: Issue): string {
  const subject = issue.path.split(".")[0] ?? "";
  const text = issue.path === ROOT_PATH || issue.message.startsWith(subject) ? issue.message : `${issue.path}: ${issue.message}`;
  return issue.detail ? `${text} (${issue.detail})` : text;
}

/** The command words of argv (`registry apply`), for messages: the known ones, in order, options and their values skipped. */
function commandWords(program: ReturnType<typeof buildProgram>, argv: readonly string[]): string {
  const words: string[] = [];
  let command = program;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith("-")) {
      const option = command.options.find((o) => o.long === arg || o.short === arg) ?? program.options.find((o) => o.long === arg);
      if (option && (option.required || option.optional)) i++;
      continue;
    }
    const next = command.commands.find((c) => c.name() === arg);
    if (!next) break;
    words.push(arg);
    command = next;
  }
  return words.join(" ");
}
