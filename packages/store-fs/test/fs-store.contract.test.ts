import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEventStoreContract } from "@opsledger/store-contract";
import { afterAll } from "vitest";
import { createFsEventStore, type FsEventStore } from "../src/index.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Rewrites the line of `seq` in whichever segment holds it, behind the store's back. */
export async function rewriteLine(dir: string, streamId: string, seq: number, edit: (line: string) => string): Promise<void> {
  const streamDir = join(dir, streamId);
  const names = (await readdir(streamDir)).filter((n) => n.endsWith(".ndjson")).sort();
  for (const [index, name] of names.entries()) {
    const first = Number(name.slice(0, 20));
    const next = names[index + 1] ? Number(names[index + 1]?.slice(0, 20)) : Number.POSITIVE_INFINITY;
    if (seq < first || seq >= next) continue;
    const lines = (await readFile(join(streamDir, name), "utf8")).split("\n");
    lines[seq - first] = edit(lines[seq - first] as string);
    await writeFile(join(streamDir, name), lines.join("\n"));
    return;
  }
  throw new Error(`no segment holds seq ${seq}`);
}

// small segments, so the contract's long streams cross many segment files
describeEventStoreContract("fs", {
  create: async () => {
    const dir = await mkdtemp(join(tmpdir(), "opsledger-fs-contract-"));
    dirs.push(dir);
    return createFsEventStore({ dir, segmentBytes: 16 * 1024 });
  },
  tamper: async (store, streamId, seq, edit) => rewriteLine((store as FsEventStore).dir, streamId, seq, edit),
});
