// Global setup: Debian's Chromium for the report's browser test, installed as a fresh machine
// gets it (apt-get, as root) when it is not there yet, once per run (an install can take a
// minute, which is no test's business). The test reads the outcome with inject("chromium").
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The Chromium to drive, or why there is none. */
    chromium: { readonly path: string } | { readonly missing: string };
  }
}

export default function setup(project: TestProject): void {
  project.provide("chromium", ensureChromium());
}

const CHROMIUM = "/usr/bin/chromium";

/** The path of a Chromium to drive, or why there is none. */
function ensureChromium(): { readonly path: string } | { readonly missing: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.getuid?.() !== 0)
    return { missing: `no ${CHROMIUM}, and installing Debian's chromium needs root (apt-get install chromium)` };
  const install = () =>
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  try {
    try {
      install();
    } catch {
      // a fresh machine may have no package lists yet
      execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "pipe"] });
      install();
    }
  } catch (error) {
    return {
      missing: `apt-get install chromium failed: ${String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .slice(-300)}`,
    };
  }
  return existsSync(CHROMIUM) ? { path: CHROMIUM } : { missing: `apt-get install chromium left no ${CHROMIUM}` };
}
