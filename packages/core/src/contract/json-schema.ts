import { z } from "zod";
import { RegistryInputSchema } from "./registry-schema.ts";

/**
 * JSON Schema (draft 2020-12) of registry v1, generated from the zod schemas, for users who
 * validate their files outside TypeScript. Cross-field rules (declared loop references,
 * governance in guarded_auto, review deadlines) are beyond JSON Schema: `safeParseRegistry` checks them.
 */
export function registryJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RegistryInputSchema, { target: "draft-2020-12", unrepresentable: "any" }),
    $id: "https://opsledger.dev/schemas/registry.v1.schema.json",
    title: "opsledger fleet registry v1",
  };
}
