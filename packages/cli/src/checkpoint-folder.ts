// Where checkpoints are kept, apart from the records: a directory, or s3://bucket/prefix (another
// bucket, or a prefix outside the store's). A checkpoint kept inside the store it anchors is
// refused: whoever can rewrite the records could rewrite it too.
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { readCheckpointNote } from "@opsledger/core";
import { RefusedError } from "./exit-codes.ts";
import type { Io } from "./io.ts";
import { parseStoreLocation, type StoreLocation } from "./store-url.ts";

/** A folder of `*.checkpoint` files (or objects). */
export interface CheckpointFolder {
  /** The notes in it whose origin is `origin`, by name. */
  notes(origin: string): Promise<string[]>;
  /** Writes one; returns where it went. */
  put(name: string, note: string): Promise<string>;
  close(): void;
}

const SUFFIX = ".checkpoint";

/** True when `value` names a folder: an s3:// location, an existing directory, or a path ending in "/". */
export async function isFolder(value: string, cwd: string): Promise<boolean> {
  if (value.startsWith("s3://") || value.endsWith("/")) return true;
  return stat(resolve(cwd, value)).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The checkpoint file name of a fleet's checkpoint at `size`: names sort by size. */
export const checkpointName = (fleetId: string, size: number): string => `${fleetId}-${String(size).padStart(20, "0")}${SUFFIX}`;

/**
 * Opens a checkpoint folder, refusing one inside the store it anchors.
 * @throws {RefusedError} for a folder inside the store, or an s3:// folder without the S3 adapter.
 */
export async function openCheckpointFolder(value: string, io: Io, store: StoreLocation): Promise<CheckpointFolder> {
  const location = apartFrom(value, io.cwd, store);
  if (location.kind === "fs") {
    const dir = location.dir;
    return {
      async notes(origin) {
        const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(SUFFIX)).sort();
        const notes = await Promise.all(names.map((n) => readFile(join(dir, n), "utf8")));
        return notes.filter((note) => readCheckpointNote(note)?.origin === origin);
      },
      async put(name, note) {
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, name), note);
        return join(dir, name);
      },
      close: () => undefined,
    };
  }
  let module: { openS3NoteFolderFromEnv: typeof import("@opsledger/store-s3").openS3NoteFolderFromEnv };
  try {
    const specifier = "@opsledger/store-s3"; // loaded only for s3:// folders, as for stores
    module = await import(specifier);
  } catch (error) {
    throw new RefusedError(`s3:// checkpoint folders need @opsledger/store-s3 installed (${(error as Error).message})`);
  }
  const folder = module.openS3NoteFolderFromEnv({ bucket: location.bucket, prefix: location.prefix, env: io.env });
  return {
    notes: async (origin) => (await folder.list(SUFFIX)).map((o) => o.text).filter((note) => readCheckpointNote(note)?.origin === origin),
    async put(name, note) {
      await folder.put(name, note);
      return `s3://${location.bucket}/${location.prefix ? `${location.prefix}/` : ""}${name}`;
    },
    close: () => folder.close(),
  };
}

/**
 * The location of a checkpoint folder, refused when it is inside the store.
 * @throws {RefusedError}
 */
export function apartFrom(value: string, cwd: string, store: StoreLocation): StoreLocation {
  const location = parseStoreLocation(value, cwd);
  if (inside(location, store)) {
    throw new RefusedError(
      `${value} is inside the store: keep checkpoints apart from the records they anchor (another directory or bucket)`,
    );
  }
  return location;
}

function inside(folder: StoreLocation, store: StoreLocation): boolean {
  if (folder.kind === "fs" && store.kind === "fs") {
    const path = relative(store.dir, folder.dir);
    return path === "" || (!path.startsWith("..") && !path.startsWith("/"));
  }
  if (folder.kind === "s3" && store.kind === "s3" && folder.bucket === store.bucket) {
    return store.prefix === "" || folder.prefix === store.prefix || folder.prefix.startsWith(`${store.prefix}/`);
  }
  return false;
}
