import { spawn } from "node:child_process";

const bin = new URL("../../packages/cli/dist/bin.js", import.meta.url).pathname;
/** The reference-format fixtures (registry v1, fleet state v1, control scripts). */
export const fixtures: string = new URL("../fixtures/reference/", import.meta.url).pathname;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** Runs the built `opsledger` binary with a fixed clock; resolves with its exit code, output and parsed JSON. */
export function opsledger(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env["PATH"] ?? "", HOME: options.cwd, OPSLEDGER_NOW: "2026-03-01T09:00:00Z", ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}
