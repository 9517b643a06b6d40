#!/usr/bin/env node
// The only file that reads process.argv and process.env or calls process.exit.
import { main } from "./main.ts";

// The AWS SDK warns on Node 20 that its releases after January 2027 need Node 22. opsledger pins
// an SDK that runs on Node 20 (package.json engines), so the notice is not for the operator at the
// terminal; docs/reference/cli.md says which Node versions are supported. Setting the variable
// yourself (to anything but "true") brings the notice back.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

// a reader that went away (`opsledger audit | head`) is not an error worth a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
