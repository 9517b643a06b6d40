// One of N processes racing for a stream's lock over a stale lock, trial after trial: waits for
// the trial's go file, takes the lock, and writes "in" and "out" lines to the shared log.
import { appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE, nodeFileOps, thisProcess, withLock } from "@opsledger/store-fs";

const [dir, trials, id] = process.argv.slice(2);
const me = await thisProcess();
const log = join(dir, "holders.log");
const wait = () => new Promise((resolve) => setImmediate(resolve));
for (let t = 0; t < Number(trials); t++) {
  while (!existsSync(join(dir, `go-${t}`))) await wait();
  await withLock(nodeFileOps, me, join(dir, "s", LOCK_FILE), "s", 10_000, async () => {
    appendFileSync(log, `${t} ${id} in\n`);
    await wait();
    appendFileSync(log, `${t} ${id} out\n`);
  });
}
