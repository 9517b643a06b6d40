// Snapshots of a stream's fold, beside its segments but outside every stream directory:
// `<store>/.snapshots/<stream>/<seq, 20 digits>.snapshot`. A snapshot is written to a temporary
// file, synced and renamed into place, so a reader sees a whole body or none; the store keeps the
// newest two of a stream. A name starting with a dot is never a stream id, so `listStreams` and
// every read of records look past this directory.
import { join } from "node:path";
import { SNAPSHOT_SUFFIX, type StoredSnapshot, seqName, seqOfExactName } from "@opsledger/core/store";
import type { FileOps } from "./file-ops.ts";
import { writeFully } from "./segments.ts";

export const SNAPSHOT_DIR = ".snapshots";
const KEPT = 2;

const snapshotName = (seq: number): string => seqName(seq, SNAPSHOT_SUFFIX);

/** A stream's snapshot files in the store at `root`. */
export function snapshotFiles(ops: FileOps, root: string, streamId: string) {
  const dir = join(root, SNAPSHOT_DIR, streamId);
  let temporaries = 0;

  // the snapshot files, newest first
  async function names(): Promise<{ seq: number; name: string }[]> {
    let entries: Awaited<ReturnType<FileOps["readdir"]>>;
    try {
      entries = await ops.readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const found: { seq: number; name: string }[] = [];
    for (const { name, kind } of entries) {
      const seq = seqOfExactName(name, SNAPSHOT_SUFFIX);
      if (seq !== undefined && kind === "file") found.push({ seq, name });
    }
    return found.sort((a, b) => b.seq - a.seq);
  }

  return {
    async put(snapshot: StoredSnapshot): Promise<void> {
      await ops.mkdir(dir);
      const temporary = join(dir, `.${snapshotName(snapshot.seq)}.${process.pid}.${++temporaries}.tmp`);
      const file = await ops.open(temporary, "create");
      try {
        await writeFully(file, Buffer.from(snapshot.body, "utf8"));
        await file.datasync();
      } catch (error) {
        await file.close().catch(() => undefined);
        await ops.unlink(temporary).catch(() => undefined);
        throw error;
      }
      await file.close();
      await ops.rename(temporary, join(dir, snapshotName(snapshot.seq)));
      for (const old of (await names()).slice(KEPT)) {
        // another writer may have pruned it first
        await ops.unlink(join(dir, old.name)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error;
        });
      }
    },

    async *list(): AsyncIterable<StoredSnapshot> {
      for (const { seq, name } of await names()) {
        let body: string;
        try {
          body = await ops.readFile(join(dir, name));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // pruned since the listing
          throw error;
        }
        yield { seq, body };
      }
    },
  };
}
