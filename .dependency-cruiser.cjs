// The dependency rules of the architecture (docs: architecture §1), checked by `pnpm lint`:
// packages depend on core and never on each other's insides; inside core each layer imports only
// the layers below it. Tests are specifications and may use any layer; they are not cruised.
const core = "^packages/core/src/";

// inside core, bottom to top: what each layer may import (besides itself and node's builtins)
const below = {
  store: ["errors\\.ts"],
  integrity: ["store/", "errors\\.ts"],
  contract: ["chain/", "errors\\.ts"],
  events: ["contract/", "chain/", "store/", "errors\\.ts"],
  decider: ["events/", "contract/", "chain/", "system\\.ts", "errors\\.ts"],
  projections: ["fleet/", "events/", "contract/", "chain/", "errors\\.ts"],
  audit: ["projections/", "fleet/", "events/", "contract/", "chain/", "proof/", "store/", "errors\\.ts"],
  // the loop around the decider: reads, decides, seals, appends, folds (drills and testing sit on it)
  ledger: ["audit/", "projections/", "fleet/", "events/", "contract/", "chain/", "proof/", "store/", "system\\.ts", "errors\\.ts"],
};
const layer = (name, folders, allowed) => ({
  name: `core-${name}`,
  comment: `core/src/${folders.join(", ")}: imports only ${allowed.join(", ").replaceAll("\\", "")} below it`,
  severity: "error",
  from: { path: `${core}(${folders.join("|")})` },
  to: { path: core, pathNot: `${core}(${[...folders, ...allowed].join("|")})` },
});

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    { name: "no-circular", comment: "no module reaches itself through its imports", severity: "error", from: {}, to: { circular: true } },
    {
      name: "core-knows-no-adapter",
      comment: "core depends on nothing of ours: the adapters and the CLI sit on top of it",
      severity: "error",
      from: { path: "^packages/core/" },
      to: { path: "^packages/(store-fs|store-s3|store-contract|cli)/" },
    },
    {
      name: "adapters-know-core-only",
      comment: "a store adapter depends on core (and its contract suite in tests), never on another adapter or the CLI",
      severity: "error",
      from: { path: "^packages/(store-fs|store-s3|store-contract)/" },
      to: { path: "^packages/(store-fs|store-s3|store-contract|cli)/", pathNot: "^packages/$1/" },
    },
    {
      name: "adapters-know-the-port-only",
      comment: "a store adapter imports @opsledger/core/store (the port, its errors, record helpers, the key layout), never the decider",
      severity: "error",
      from: { path: "^packages/(store-fs|store-s3)/src/" },
      to: { path: core, pathNot: `${core}store/index\\.ts$` },
    },
    {
      name: "no-reaching-into-another-package",
      comment: "another package is imported by its name (its exports), never by a relative path into its files",
      severity: "error",
      from: { path: "^packages/([^/]+)/" },
      to: { path: "^packages/[^/]+/", pathNot: "^packages/$1/", dependencyTypes: ["local"] },
    },
    {
      name: "errors-and-system-are-leaves",
      comment: "errors.ts and system.ts import nothing of core: every layer may use them",
      severity: "error",
      from: { path: `${core}(errors|system)\\.ts$` },
      to: { path: core, pathNot: `${core}(errors|system)\\.ts$` },
    },
    // the store entry (@opsledger/core/store) is a facade: it re-exports record helpers from chain/
    { ...layer("store-port", ["store/"], below.store), from: { path: `${core}store/`, pathNot: `${core}store/index\\.ts$` } },
    layer("chain-and-proof", ["chain/", "proof/"], below.integrity),
    layer("contract", ["contract/"], below.contract),
    layer("events", ["events/"], below.events),
    layer("decider", ["fleet/"], below.decider),
    layer("projections", ["projections/"], below.projections),
    layer("audit", ["audit/"], below.audit),
    layer("ledger", ["ledger/"], below.ledger),
  ],
  options: {
    includeOnly: "^packages/[^/]+/src/",
    exclude: { path: ["\\.test\\.ts$", "/dist/"] },
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      conditionNames: ["@opsledger/source", "import", "node", "default"],
      exportsFields: ["exports"],
      extensions: [".ts", ".js", ".mjs", ".cjs"],
    },
  },
};
