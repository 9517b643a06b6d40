// Every file operation of the fs store goes through this one small interface, so tests can put a
// faulty or simulated filesystem under the store (the fault environments of LevelDB and RocksDB):
// ENOSPC or EIO on the Nth call, short writes, and power loss that drops what no sync covered.
import { constants, type Dirent } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** An open file. Writes go to its end (files are opened for append) and may be short. */
export interface FileHandleOps {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Appends from `buffer`; resolves with how many bytes were written, which may be fewer than asked. */
  write(buffer: Buffer): Promise<number>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** What the store needs of a filesystem. Nothing here follows a symbolic link. */
export interface FileOps {
  /**
   * `read`: reading; `append`: appending to an existing file; `create`: appending to a file that
   * must not exist yet (O_EXCL). A symbolic link is refused (ELOOP).
   */
  open(path: string, mode: "read" | "append" | "create"): Promise<FileHandleOps>;
  readFile(path: string): Promise<string>;
  readdir(path: string): Promise<{ name: string; kind: "file" | "directory" | "symlink" | "other" }[]>;
  /** Creates the directory (and its parents); true when it did not exist. */
  mkdir(path: string): Promise<boolean>;
  /** Never follows a symbolic link. */
  stat(path: string): Promise<{ size: number; mtimeMs: number; kind: "file" | "directory" | "symlink" | "other" }>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Makes the directory's entries durable (fsync of the directory). */
  syncDir(path: string): Promise<void>;
}

/** Who this process is, for the lock: a lock from another boot, or of a process gone, is stale. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** Changes at every boot (Linux: `/proc/sys/kernel/random/boot_id`), so a pid reused after a reboot is not mistaken for the writer. */
  readonly boot: string;
  alive(pid: number): boolean;
}

const kindOf = (entry: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) =>
  entry.isSymbolicLink() ? "symlink" : entry.isFile() ? "file" : entry.isDirectory() ? "directory" : "other";

const FLAGS = {
  read: constants.O_RDONLY | constants.O_NOFOLLOW,
  append: constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW,
  create: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
} as const;

/** The real filesystem (node:fs/promises), opening nothing through a symbolic link. */
export const nodeFileOps: FileOps = {
  async open(path, mode) {
    const handle = await open(path, FLAGS[mode], 0o644);
    return {
      read: async (buffer, offset, length, position) => (await handle.read(buffer, offset, length, position)).bytesRead,
      write: async (buffer) => (await handle.write(buffer)).bytesWritten,
      datasync: () => handle.datasync(),
      truncate: (length) => handle.truncate(length),
      size: async () => (await handle.stat()).size,
      close: () => handle.close(),
    };
  },
  readFile: (path) => readFile(path, { encoding: "utf8", flag: constants.O_RDONLY | constants.O_NOFOLLOW }),
  async readdir(path) {
    const entries: Dirent[] = await readdir(path, { withFileTypes: true });
    return entries.map((entry) => ({ name: entry.name, kind: kindOf(entry) }));
  },
  mkdir: makeDirectory,
  async stat(path) {
    const stats = await lstat(path);
    return { size: stats.size, mtimeMs: stats.mtimeMs, kind: kindOf(stats) };
  },
  unlink: (path) => unlink(path),
  rename: (from, to) => rename(from, to),
  async syncDir(path) {
    const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

// mkdir -p by hand: Node's recursive mkdir never returns for some paths it cannot create (under
// /proc it loops on ENOENT), so each level is made once and a failure is final
async function makeDirectory(path: string): Promise<boolean> {
  try {
    await mkdir(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      // (a store directory may be a link to one; stream directories are checked for links apart)
      if ((await stat(path)).isDirectory()) return false;
      throw error;
    }
    const parent = dirname(path);
    if (code !== "ENOENT" || parent === path) throw error;
  }
  await makeDirectory(dirname(path));
  await mkdir(path);
  return true;
}

let bootId: string | undefined;
async function readBootId(): Promise<string> {
  bootId ??= await readFile("/proc/sys/kernel/random/boot_id", "utf8").then(
    (text) => text.trim(),
    () => "unknown", // not Linux: pids alone decide, as before
  );
  return bootId;
}

/** This process, on this host, in this boot. */
export async function thisProcess(): Promise<ProcessIdentity> {
  return {
    pid: process.pid,
    host: hostname(),
    boot: await readBootId(),
    alive(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        // EPERM: the process exists but belongs to someone else
        return (error as NodeJS.ErrnoException).code === "EPERM";
      }
    },
  };
}
