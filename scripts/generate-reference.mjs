// Writes the generated reference files under docs/reference from the built core.
// Run with `pnpm docs:generate` after changing a schema; a test fails while they are stale.
import { writeFileSync } from "node:fs";
import { registryJsonSchema } from "../packages/core/dist/index.js";

const target = new URL("../docs/reference/registry.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(registryJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
