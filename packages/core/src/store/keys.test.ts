import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RECORDS_SUFFIX, rangeName, rangeOfExactName, SNAPSHOT_SUFFIX, seqName, seqOfExactName, seqOfName } from "./keys.ts";

describe("the key layout stores share", () => {
  it("names a seq with 20 digits and its suffix, so name order is seq order", () => {
    expect(seqName(1, RECORDS_SUFFIX)).toBe("00000000000000000001.ndjson");
    expect(seqName(Number.MAX_SAFE_INTEGER, SNAPSHOT_SUFFIX)).toBe("00009007199254740991.snapshot");
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (a, b) => {
        expect(seqName(a, RECORDS_SUFFIX) < seqName(b, RECORDS_SUFFIX)).toBe(a < b);
        expect(seqOfName(seqName(a, RECORDS_SUFFIX), RECORDS_SUFFIX)).toBe(a);
      }),
    );
  });

  it("reads the seq from the end of a path or object key, and nothing from any other name", () => {
    expect(seqOfName("bucket/prefix/default/00000000000000001000.ndjson", RECORDS_SUFFIX)).toBe(1000);
    for (const name of [
      "0000000000000000001.ndjson",
      "00000000000000000001.snapshot",
      "0000000000000000000x.ndjson",
      ".ndjson",
      "1.ndjson",
    ]) {
      expect(seqOfName(name, RECORDS_SUFFIX)).toBeUndefined();
    }
  });

  it("keeps from a listing only names that are exactly the layout", () => {
    expect(seqOfExactName("00000000000000001000.snapshot", SNAPSHOT_SUFFIX)).toBe(1000);
    for (const name of [
      "x00000000000000000001.ndjson",
      "default/00000000000000000001.ndjson",
      "0000000000000000001.ndjson",
      "00000000000000000001.ndjson.tmp",
    ]) {
      expect(seqOfExactName(name, RECORDS_SUFFIX), name).toBeUndefined();
    }
  });

  it("names a range by its first and last seq, in first-seq order, and reads back only exact range names", () => {
    expect(rangeName(1, 10_000, RECORDS_SUFFIX)).toBe("00000000000000000001-00000000000000010000.ndjson");
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.nat(), (first, span) => {
        const last = Math.min(Number.MAX_SAFE_INTEGER, first + span);
        expect(rangeOfExactName(rangeName(first, last, RECORDS_SUFFIX), RECORDS_SUFFIX)).toEqual({ first, last });
      }),
    );
    for (const name of [
      "00000000000000000001.ndjson",
      "00000000000000000002-00000000000000000001.ndjson",
      "00000000000000000001_00000000000000000002.ndjson",
      "00000000000000000001-00000000000000000002.snapshot",
      "x00000000000000000001-00000000000000000002.ndjson",
    ]) {
      expect(rangeOfExactName(name, RECORDS_SUFFIX), name).toBeUndefined();
    }
  });
});
