import fc from "fast-check";
import stringify from "fast-json-stable-stringify";
import { describe, expect, it } from "vitest";
import { isOpsledgerError } from "../errors.ts";
import { canonicalJson } from "./canonical-json.ts";
import { sha256Hex } from "./hash.ts";

// reorders every object's keys, so two builds of the same value differ only in key order
const shuffleKeys = (value: unknown, seed: number): unknown => {
  if (Array.isArray(value)) return value.map((item, i) => shuffleKeys(item, seed + i));
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    const rotated = entries.map((_, i) => entries[(i + seed) % entries.length] as [string, unknown]).reverse();
    return Object.fromEntries(rotated.map(([k, v]) => [k, shuffleKeys(v, seed + 1)]));
  }
  return value;
};

describe("canonicalJson", () => {
  it("sorts keys and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: { z: 0, y: -1.5 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":-1.5,"z":0}}');
  });

  it("gives the same bytes and hash whatever the key order or whitespace the value was written with", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(20), (value, seed) => {
        const reordered = shuffleKeys(value, seed);
        const reparsed = JSON.parse(JSON.stringify(reordered, null, 2));
        expect(canonicalJson(reordered)).toBe(canonicalJson(value));
        expect(sha256Hex(canonicalJson(reparsed))).toBe(sha256Hex(canonicalJson(value)));
      }),
      { numRuns: 500 },
    );
  });

  it("is idempotent: canonical bytes parse back to a value with the same canonical bytes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = canonicalJson(value);
        expect(canonicalJson(JSON.parse(bytes))).toBe(bytes);
      }),
      { numRuns: 500 },
    );
  });

  const rejected: Array<[string, unknown, string, RegExp]> = [
    ["undefined in an object", { a: { b: undefined } }, "a.b", /undefined is not a JSON value/],
    ["undefined in an array", { list: [1, undefined] }, "list[1]", /undefined/],
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is under test
    ["a hole in an array", { list: [1, , 3] }, "list[1]", /hole/],
    ["NaN", { n: Number.NaN }, "n", /not finite/],
    ["Infinity", { deep: [{ n: Number.POSITIVE_INFINITY }] }, "deep[0].n", /not finite/],
    ["a lone high surrogate", { s: "ok\uD800" }, "s", /lone surrogate/],
    ["a lone low surrogate in a key", { ["k\uDC00"]: 1 }, '["k\\udc00"]', /lone surrogate/],
    ["a Date", { when: new Date(0) }, "when", /Date is not a plain object/],
    ["a Map", { m: new Map() }, "m", /Map is not a plain object/],
    ["a class instance", { x: new (class Probe {})() }, "x", /Probe is not a plain object/],
    ["a function", { f: () => 1 }, "f", /function/],
    ["a bigint", { b: 1n }, "b", /bigint/],
    ["a symbol", { s: Symbol("x") }, "s", /symbol/],
    ["a key that is not an identifier", { "my key": [undefined] }, '["my key"][0]', /undefined/],
  ];
  for (const [name, value, path, reason] of rejected) {
    it(`rejects ${name}, naming its path`, () => {
      let thrown: unknown;
      try {
        canonicalJson(value);
      } catch (error) {
        thrown = error;
      }
      expect(isOpsledgerError(thrown, "INVALID_VALUE")).toBe(true);
      expect(thrown).toMatchObject({ path });
      expect((thrown as Error).message).toMatch(reason);
      expect((thrown as Error).message.startsWith(path)).toBe(true);
    });
  }

  it("writes byte for byte what fast-json-stable-stringify 2 (the log format's canonicalization) writes", () => {
    // every JSON value, strings of any code points (astral ones too), keys like __proto__ and
    // constructor, -0, large and tiny numbers, and objects built with a null prototype
    const nullProto = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(nullProto);
      if (value !== null && typeof value === "object") {
        const copy = Object.create(null) as Record<string, unknown>;
        for (const [key, item] of Object.entries(value)) copy[key] = nullProto(item);
        return copy;
      }
      return value;
    };
    const values = fc.oneof(
      fc.jsonValue(),
      fc.json().map((text) => JSON.parse(text) as unknown),
      fc.dictionary(fc.constantFrom("__proto__", "constructor", "toString", "", "é", "🚀", "a", "B", "10", "9"), fc.jsonValue()),
      fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(-0), fc.string({ unit: "grapheme" }))),
    );
    fc.assert(
      fc.property(values, fc.boolean(), (value, withoutPrototype) => {
        const built = withoutPrototype ? nullProto(value) : value;
        expect(canonicalJson(built)).toBe(stringify(built));
      }),
      { numRuns: 3000 },
    );
    expect(canonicalJson(JSON.parse('{"__proto__":{"b":1},"a":[-0,1e21,5e-324]}'))).toBe(
      stringify(JSON.parse('{"__proto__":{"b":1},"a":[-0,1e21,5e-324]}')),
    );
  });

  it("accepts well-formed astral characters, which are surrogate pairs in UTF-16", () => {
    expect(canonicalJson({ s: "🚀𝄞" })).toBe('{"s":"🚀𝄞"}');
  });
});
