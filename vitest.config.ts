import { defineConfig } from "vitest/config";

// Tests resolve workspace packages to their live src through the source condition.
const conditions = ["@opsledger/source"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "tests/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    setupFiles: ["./tests/setup/fail-on-console.ts"],
    globalSetup: ["./tests/setup/browser.ts"],
    // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider
    execArgv: ["--openssl-legacy-provider"],
    // on Node 20 the AWS SDK warns that its releases after January 2027 will need Node 22 (the CLI
    // keeps the notice off the terminal the same way; .ci/run also runs the suite on Node 22)
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
