import { spawn } from "node:child_process";
import type { Dispatcher, DispatchReport } from "@opsledger/core";

/**
 * The control-command contract (architecture §4): the command runs once per intent through the
 * shell, with the intent as JSON on stdin and OPSLEDGER_* variables in its environment. Exit 0 is
 * executed (unconfirmed when it prints `"confirmed": false`), exit 2 ambiguous, anything else
 * failed. A control script written for the reference (exit 0 confirmed, 2 ambiguous) works as is.
 * Past the dispatch timeout the command's process group is killed and the intent recorded ambiguous.
 * Its stdout and stderr are kept, the last 16 KiB of each, and returned with the batch (`output`).
 */
export function controlCommandDispatcher(command: string, env: Readonly<Record<string, string | undefined>>): Dispatcher {
  return (intent, context) =>
    new Promise<DispatchReport>((resolve) => {
      const child = spawn("/bin/sh", ["-c", command], {
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
        env: {
          ...env,
          OPSLEDGER_INTENT_ID: intent.intentId,
          OPSLEDGER_LOOP_ID: intent.loopId,
          OPSLEDGER_INTENT: intent.intent,
          OPSLEDGER_TRACE_ID: context.traceId ?? "",
          OPSLEDGER_IDEMPOTENCY_KEY: context.idempotencyKey,
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => {
        stdout = keepTail(stdout + chunk);
      });
      child.stderr.on("data", (chunk) => {
        stderr = keepTail(stderr + chunk);
      });
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      };
      context.signal.addEventListener("abort", kill, { once: true });
      child.stdin.on("error", () => undefined); // a command that does not read stdin
      child.stdin.end(`${JSON.stringify(intent)}\n`);
      child.on("error", (error) => resolve({ status: "failed", transport: "control_spawn_failed", detail: error.message }));
      child.on("close", (code, signal) => {
        context.signal.removeEventListener("abort", kill);
        const tail = (stderr || stdout).trim().split("\n").slice(-3).join(" | ").slice(0, 500);
        const output = [stdout.trimEnd(), stderr.trimEnd()].filter(Boolean).join("\n");
        const kept = output ? { output } : {};
        if (code === 0) {
          let confirmed = true;
          try {
            const parsed = JSON.parse(stdout.trim().split("\n").pop() ?? "");
            if (parsed && typeof parsed === "object" && (parsed.confirmed === false || parsed.status === "executed_unconfirmed"))
              confirmed = false;
          } catch {
            // not JSON: an exit 0 is a confirmed execution, as in the reference
          }
          resolve({ status: confirmed ? "confirmed" : "unconfirmed", ...kept });
        } else if (code === 2) {
          resolve({ status: "ambiguous", ...(tail ? { detail: tail } : {}), ...kept });
        } else {
          resolve({ status: "failed", detail: signal ? `killed by ${signal}` : `exit ${code}${tail ? `: ${tail}` : ""}`, ...kept });
        }
      });
    });
}

const KEPT_OUTPUT = 16 * 1024;
// the end of a command's output says how it ended; a chatty command must not grow memory without bound
const keepTail = (text: string): string => (text.length > KEPT_OUTPUT ? text.slice(-KEPT_OUTPUT) : text);
