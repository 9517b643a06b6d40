import { spawn } from "node:child_process";

/** What a finished child process left: its exit code (-1 when killed by a signal) and its output. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Node.js script in a child process to the end and collects its output. */
export function runNode(script: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
