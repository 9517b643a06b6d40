// The lock campaign (quality bars, reliability): N processes race for one stream's lock over a
// stale lock (its owner dead), 1,000 trials each for 2, 4 and 8 processes. Every holder writes
// "in" and "out" to a shared log inside the lock: two "in" without an "out" between would be two
// holders at once, the fork a broken takeover causes.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCK_FILE, thisProcess } from "@opsledger/store-fs";
import { afterAll, describe, expect, it } from "vitest";

const here = new URL(".", import.meta.url).pathname;
const TRIALS = 1000;
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function campaign(processes: number): Promise<{ trials: number; doubleHolders: number }> {
  const dir = await mkdtemp(join(tmpdir(), "opsledger-lock-"));
  dirs.push(dir);
  await mkdir(join(dir, "s"));
  const me = await thisProcess();
  const children = Array.from({ length: processes }, (_, id) =>
    spawn(process.execPath, [join(here, "lock-racer.mjs"), dir, String(TRIALS), String(id)], { stdio: ["ignore", "ignore", "pipe"] }),
  );
  const exits = children.map(
    (child) =>
      new Promise<void>((resolve, reject) => {
        let stderr = "";
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`racer exited ${code}: ${stderr}`))));
      }),
  );
  const log = join(dir, "holders.log");
  let seen = 0;
  for (let t = 0; t < TRIALS; t++) {
    // a lock left by a writer that died: this host, this boot, a pid that is not running
    const stale = { pid: 2 ** 22 + 4242, host: me.host, boot: me.boot, token: `dead-${t}`, acquiredAt: new Date().toISOString() };
    await writeFile(join(dir, "s", LOCK_FILE), JSON.stringify(stale));
    await writeFile(join(dir, `go-${t}`), "");
    // every racer has held and released the lock once
    for (;;) {
      const text = await readFile(log, "utf8").catch(() => "");
      const outs = text.split("\n").filter((line) => line.startsWith(`${t} `) && line.endsWith(" out")).length;
      if (outs === processes) break;
      await sleep(1);
    }
    seen++;
  }
  await Promise.all(exits);
  const lines = (await readFile(log, "utf8")).trim().split("\n");
  let holders = 0;
  let doubleHolders = 0;
  for (const line of lines) {
    holders += line.endsWith(" in") ? 1 : -1;
    if (holders > 1) doubleHolders++;
  }
  return { trials: seen, doubleHolders };
}

describe("fs store lock over a stale lock", () => {
  for (const processes of [2, 4, 8]) {
    it(`has one holder at a time across ${TRIALS} trials of ${processes} processes`, async () => {
      const result = await campaign(processes);
      console.info(
        `lock campaign: ${result.trials} trials × ${processes} processes over a stale lock, ${result.doubleHolders} double holders`,
      );
      expect(result).toEqual({ trials: TRIALS, doubleHolders: 0 });
    }, 600_000);
  }
});
