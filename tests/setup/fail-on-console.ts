// A test that logs is a test whose output nobody reads: fail it. Campaigns report their
// counts through console.info, which stays allowed.
for (const method of ["log", "warn", "error", "debug"] as const) {
  console[method] = (...args: unknown[]) => {
    throw new Error(`unexpected console.${method} in a test: ${args.map(String).join(" ")}`);
  };
}
