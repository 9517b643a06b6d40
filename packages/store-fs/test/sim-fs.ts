// A simulated filesystem for the fault campaign, with the durability rules of a real one: file
// bytes are durable once `datasync` covered them, directory entries once the directory was synced.
// `powerLoss()` drops everything else, as a power cut would. `faulty()` wraps it to fail the Nth
// call of an operation with ENOSPC or EIO, or to write short.
import { basename, dirname } from "node:path";
import type { FileHandleOps, FileOps, ProcessIdentity } from "../src/file-ops.ts";

interface Inode {
  data: Buffer;
  durable: Buffer;
}
interface Dir {
  entries: Map<string, Inode | Dir>;
  durable: Map<string, Inode | Dir>;
}
const isDir = (node: Inode | Dir | undefined): node is Dir => node !== undefined && "entries" in node;

const errno = (code: string, path: string) => Object.assign(new Error(`${code}: ${path}`), { code });

export class SimFs {
  #root: Dir = { entries: new Map(), durable: new Map() };
  boots = 1;

  /** Every byte and entry no sync covered is gone; the machine comes back in a new boot. */
  powerLoss(): void {
    const reset = (dir: Dir) => {
      dir.entries = new Map(dir.durable);
      for (const node of dir.entries.values()) {
        if (isDir(node)) reset(node);
        else node.data = Buffer.from(node.durable);
      }
    };
    reset(this.#root);
    this.boots++;
  }

  /** A process of this simulated machine, in its current boot. */
  identity(): ProcessIdentity {
    return { pid: 1, host: "sim", boot: String(this.boots), alive: () => true };
  }

  #lookup(path: string): Inode | Dir | undefined {
    let node: Inode | Dir | undefined = this.#root;
    for (const part of path.split("/").filter(Boolean)) {
      if (!isDir(node)) return undefined;
      node = node.entries.get(part);
    }
    return node;
  }
  #parent(path: string): Dir {
    const parent = this.#lookup(dirname(path));
    if (!isDir(parent)) throw errno("ENOENT", path);
    return parent;
  }

  /** Creates a directory and its parents, durably (the store's root as it is before the campaign). */
  mkdirDurable(path: string): void {
    let node: Dir = this.#root;
    for (const part of path.split("/").filter(Boolean)) {
      let next = node.entries.get(part);
      if (!isDir(next)) {
        next = { entries: new Map(), durable: new Map() };
        node.entries.set(part, next);
      }
      node.durable.set(part, next);
      node = next;
    }
  }

  /** What a file holds now (for the test's own checks). */
  contents(path: string): Buffer | undefined {
    const node = this.#lookup(path);
    return node && !isDir(node) ? node.data : undefined;
  }

  readonly ops: FileOps = {
    open: async (path, mode) => {
      const parent = this.#parent(path);
      let node = parent.entries.get(basename(path));
      if (isDir(node)) throw errno("EISDIR", path);
      if (mode === "create") {
        if (node) throw errno("EEXIST", path);
        node = { data: Buffer.alloc(0), durable: Buffer.alloc(0) };
        parent.entries.set(basename(path), node);
      }
      if (!node) throw errno("ENOENT", path);
      const file = node;
      return {
        read: async (buffer, offset, length, position) => {
          const n = Math.max(0, Math.min(length, file.data.length - position));
          file.data.copy(buffer, offset, position, position + n);
          return n;
        },
        write: async (buffer) => {
          if (mode === "read") throw errno("EBADF", path);
          file.data = Buffer.concat([file.data, buffer]);
          return buffer.length;
        },
        datasync: async () => {
          file.durable = Buffer.from(file.data);
        },
        truncate: async (length) => {
          file.data =
            length <= file.data.length
              ? file.data.subarray(0, length)
              : Buffer.concat([file.data, Buffer.alloc(length - file.data.length)]);
        },
        size: async () => file.data.length,
        close: async () => undefined,
      };
    },
    readFile: async (path) => {
      const node = this.#lookup(path);
      if (!node) throw errno("ENOENT", path);
      if (isDir(node)) throw errno("EISDIR", path);
      return node.data.toString("utf8");
    },
    readdir: async (path) => {
      const node = this.#lookup(path);
      if (!isDir(node)) throw errno("ENOENT", path);
      return [...node.entries].map(([name, child]) => ({ name, kind: isDir(child) ? ("directory" as const) : ("file" as const) }));
    },
    mkdir: async (path) => {
      if (isDir(this.#lookup(path))) return false;
      const parent = this.#parent(path);
      parent.entries.set(basename(path), { entries: new Map(), durable: new Map() });
      return true;
    },
    stat: async (path) => {
      const node = this.#lookup(path);
      if (!node) throw errno("ENOENT", path);
      return isDir(node) ? { size: 0, mtimeMs: 0, kind: "directory" } : { size: node.data.length, mtimeMs: 0, kind: "file" };
    },
    unlink: async (path) => {
      const parent = this.#parent(path);
      if (!parent.entries.delete(basename(path))) throw errno("ENOENT", path);
    },
    rename: async (from, to) => {
      const node = this.#parent(from).entries.get(basename(from));
      if (!node) throw errno("ENOENT", from);
      this.#parent(from).entries.delete(basename(from));
      this.#parent(to).entries.set(basename(to), node);
    },
    syncDir: async (path) => {
      const node = this.#lookup(path);
      if (!isDir(node)) throw errno("ENOENT", path);
      node.durable = new Map(node.entries);
    },
  };
}

/** An operation the fault layer can fail. */
export type FaultOp = "open" | "write" | "datasync" | "truncate" | "rename" | "syncDir" | "unlink";
export interface Fault {
  readonly op: FaultOp;
  /** Fails the nth call of `op` (1-based) from now on. */
  readonly nth: number;
  /** ENOSPC, EIO, or a short write (only for `write`: part of the bytes, then ENOSPC on the rest). */
  readonly kind: "ENOSPC" | "EIO" | "short";
  /** Keep failing every later call too (a full disk stays full), or fail once. */
  readonly sticky: boolean;
}

/** Wraps `ops` so that the faults happen; `fired()` tells how many did. */
export function faulty(ops: FileOps, faults: readonly Fault[]): { ops: FileOps; fired: () => number } {
  const calls = new Map<FaultOp, number>();
  const fired = new Set<Fault>();
  // the fault this call of `op` meets, if any
  const hit = (op: FaultOp): Fault | undefined => {
    const n = (calls.get(op) ?? 0) + 1;
    calls.set(op, n);
    const fault = faults.find((f) => f.op === op && (n === f.nth || (f.sticky && n > f.nth)));
    if (fault) fired.add(fault);
    return fault;
  };
  const failing = (op: FaultOp, path: string) => {
    const fault = hit(op);
    if (fault) throw errno(fault.kind === "short" ? "ENOSPC" : fault.kind, path);
  };
  const wrapped: FileOps = {
    ...ops,
    open: async (path, mode) => {
      failing("open", path);
      const handle = await ops.open(path, mode);
      const faultyHandle: FileHandleOps = {
        ...handle,
        write: async (buffer) => {
          const fault = hit("write");
          if (fault) {
            if (fault.kind === "short" && buffer.length > 1) return handle.write(buffer.subarray(0, Math.floor(buffer.length / 2)));
            throw errno(fault.kind === "short" ? "ENOSPC" : fault.kind, path);
          }
          return handle.write(buffer);
        },
        datasync: async () => {
          failing("datasync", path);
          return handle.datasync();
        },
        truncate: async (length) => {
          failing("truncate", path);
          return handle.truncate(length);
        },
      };
      return faultyHandle;
    },
    unlink: async (path) => {
      failing("unlink", path);
      return ops.unlink(path);
    },
    rename: async (from, to) => {
      failing("rename", from);
      return ops.rename(from, to);
    },
    syncDir: async (path) => {
      failing("syncDir", path);
      return ops.syncDir(path);
    },
  };
  return { ops: wrapped, fired: () => fired.size };
}
