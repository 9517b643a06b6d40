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
 * Canonical JSON bytes of a value: keys sorted, no whitespace, byte for byte what
 * `fast-json-stable-stringify` 2 gives (the log format's canonicalization), after refusing
 * anything it would mangle (see `assertCanonicalizable`). The same value gives the same string on
 * every machine, whatever the key order it was built with.
 * @throws {InvalidValueError} naming the offending path.
 */
export function canonicalJson(value: unknown): string {
  const bytes = canonical(value);
  if (bytes !== undefined) return bytes;
  // refused: the walk that names the path says why (it throws for everything `canonical` refuses)
  assertCanonicalizable(value);
  throw new InvalidValueError("", "value is not canonicalizable");
}

const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

// One walk that checks and writes: fast-json-stable-stringify's output for every value
// assertCanonicalizable accepts (sorted keys in UTF-16 order, numbers as `${n}`, strings and keys
// through JSON.stringify), undefined for every value it refuses. Sealing runs this on every event:
// the library's cycle bookkeeping and a separate checking walk cost more than the writing.
function canonical(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return wellFormed(value) ? JSON.stringify(value) : undefined;
    case "number":
      return Number.isFinite(value) ? `${value}` : undefined;
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        let out = "[";
        for (let index = 0; index < value.length; index++) {
          if (!(index in value)) return undefined;
          const item = canonical(value[index]);
          if (item === undefined) return undefined;
          out += index === 0 ? item : `,${item}`;
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(value).length > 0) return undefined;
      const keys = Object.keys(value).sort();
      let out = "{";
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index] as string;
        const item = wellFormed(key) ? canonical((value as Record<string, unknown>)[key]) : undefined;
        if (item === undefined) return undefined;
        out += `${index === 0 ? "" : ","}${JSON.stringify(key)}:${item}`;
      }
      return `${out}}`;
    }
    default:
      return undefined;
  }
}
