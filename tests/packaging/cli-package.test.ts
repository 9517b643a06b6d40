// What `npm install @opsledger/cli` gets: the report's page script and style live beside dist/
// (read at run time), so the published package must carry them.
import { describe, expect, it } from "vitest";
import { runProcess } from "../run-node.ts";

const cli = new URL("../../packages/cli/", import.meta.url).pathname;

describe("@opsledger/cli package", () => {
  it("ships the report's assets beside its build", async () => {
    const npm = await runProcess("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: cli,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? cli },
    });
    expect(npm.code).toBe(0);
    const [{ files }] = JSON.parse(npm.stdout) as [{ files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["assets/report-page.js", "assets/report.css", "dist/report/html.js", "dist/bin.js"]));
  });
});
