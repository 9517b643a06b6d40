import stringify from "fast-json-stable-stringify";
import { InvalidValueError } from "../errors.ts";

/**
 * A JSON value that canonicalizes without loss: finite numbers, well-formed strings,
 * arrays and plain objects only.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** True for a JSON object (not null, not an array). */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// a high surrogate not followed by a low one, or a low one not preceded by a high one
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const childPath = (path: string, key: string): string =>
  IDENTIFIER.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

/**
 * Throws `InvalidValueError` naming the first path whose value `JSON.stringify` would silently
 * drop, change or make unhashable: `undefined`, functions, symbols, bigints, non-finite numbers,
 * lone surrogates (in values or keys), and objects that are not plain (Date, Map, class instances).
 */
export function assertCanonicalizable(value: unknown, path = ""): asserts value is JsonValue {
  switch (typeof value) {
    case "string":
      if (LONE_SURROGATE.test(value)) throw new InvalidValueError(path, "string contains a lone surrogate");
      return;
    case "number":
      if (!Number.isFinite(value)) throw new InvalidValueError(path, `number ${value} is not finite`);
      return;
    case "boolean":
      return;
    case "object": {
      if (value === null) return;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          if (!(index in value)) throw new InvalidValueError(`${path}[${index}]`, "array has a hole");
          assertCanonicalizable(value[index], `${path}[${index}]`);
        }
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? "unknown";
        throw new InvalidValueError(path, `${name} is not a plain object`);
      }
      if (Object.getOwnPropertySymbols(value).length > 0) throw new InvalidValueError(path, "object has symbol keys");
      for (const key of Object.keys(value)) {
        const keyPath = childPath(path, key);
        if (LONE_SURROGATE.test(key)) throw new InvalidValueError(keyPath, "key contains a lone surrogate");
        assertCanonicalizable((value as Record<string, unknown>)[key], keyPath);
      }
      return;
    }
    default:
      throw new InvalidValueError(path, `${typeof value} is not a JSON value`);
  }
}

/**
 * Canonical JSON bytes of a value: keys sorted, no whitespace, via `fast-json-stable-stringify`,
 * after `assertCanonicalizable` has refused anything it would mangle. The same value gives the
 * same string on every machine, whatever the key order it was built with.
 * @throws {InvalidValueError} naming the offending path.
 */
export function canonicalJson(value: unknown): string {
  assertCanonicalizable(value);
  return stringify(value);
}
