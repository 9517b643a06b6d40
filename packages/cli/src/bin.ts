#!/usr/bin/env node
// The only file that reads process.argv and process.env or calls process.exit.
import { main } from "./main.ts";

// a reader that went away (`opsledger audit | head`) is not an error worth a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
process.exitCode = code;
