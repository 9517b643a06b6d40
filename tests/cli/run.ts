import { type Finished, runNode } from "../run-node.ts";

const bin = new URL("../../packages/cli/dist/bin.js", import.meta.url).pathname;
/** The reference-format fixtures (registry v1, fleet state v1, control scripts). */
export const fixtures: string = new URL("../fixtures/reference/", import.meta.url).pathname;

export interface Run extends Finished {
  json: any;
}

/** Runs the built `opsledger` binary with a fixed clock; resolves with its exit code, output and parsed JSON. */
export async function opsledger(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  const finished = await runNode(bin, args, {
    cwd: options.cwd,
    env: { PATH: process.env["PATH"] ?? "", HOME: options.cwd, USER: "operator", OPSLEDGER_NOW: "2026-03-01T09:00:00Z", ...options.env },
  });
  let json: unknown;
  try {
    json = JSON.parse(finished.stdout);
  } catch {
    json = undefined;
  }
  return { ...finished, json };
}
