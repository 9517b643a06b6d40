// A throwaway PostgreSQL server for the Emmett PostgreSQL rows: Debian's packages (installed on
// first use, as the npm peers are), a fresh cluster in a temp directory, listening on 127.0.0.1
// only, with the server's durable defaults (fsync on, synchronous_commit on). Stopped and removed
// by stop(), and on the bench's exit.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const log = (text) => process.stderr.write(`${text}\n`);
const root = process.getuid?.() === 0;

// the newest installed server's bin directory, installing Debian's postgresql when there is none
function serverBin() {
  const find = () => {
    const base = "/usr/lib/postgresql";
    const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "initdb"))) : [];
    const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
    return newest ? join(base, newest, "bin") : null;
  };
  let bin = find();
  if (bin) return bin;
  if (!root) throw new Error("PostgreSQL is not installed: run `apt-get install -y postgresql` (as root), then pnpm bench again");
  log("installing PostgreSQL from Debian's packages (apt-get install postgresql)…");
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  bin = find();
  if (!bin) throw new Error("apt-get install postgresql left no /usr/lib/postgresql/<version>/bin/initdb");
  return bin;
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts a fresh cluster; resolves to its connection string and a stop function. */
export async function startPostgres() {
  const bin = serverBin();
  const dir = mkdtempSync(join(tmpdir(), "opsledger-bench-pg-"));
  const data = join(dir, "data");
  // the server refuses to run as root: as root, the cluster belongs to Debian's postgres user
  if (root)
    chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  const run = (tool, args) =>
    execFileSync(root ? "runuser" : join(bin, tool), root ? ["-u", "postgres", "--", join(bin, tool), ...args] : args, {
      stdio: ["ignore", "ignore", "pipe"],
    });
  const port = await freePort();
  run("initdb", ["-D", data, "-U", "bench", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=50`;
  run("pg_ctl", ["start", "-D", data, "-w", "-l", join(dir, "server.log"), "-o", options]);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run("pg_ctl", ["stop", "-D", data, "-m", "fast", "-w"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.on("exit", stop);
  return { connectionString: `postgresql://bench@127.0.0.1:${port}/postgres`, stop };
}
