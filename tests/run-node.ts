import { spawn } from "node:child_process";

/** What a finished child process left: its exit code (-1 when killed by a signal) and its output. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program in a child process to the end, with `input` on its stdin, and collects its output. */
export function runProcess(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c) => {
      stdout += c;
    });
    child.stderr?.on("data", (c) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a Node.js script in a child process to the end and collects its output. */
export function runNode(script: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Finished> {
  return runProcess(process.execPath, [script, ...args], options);
}
