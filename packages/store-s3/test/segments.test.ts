import { describe, expect, it } from "vitest";
import { nextSegment, segmentChain } from "../src/segments.ts";

const range = (first: number, last: number) => ({ key: `${first}-${last}`, first, last });

describe("s3 compaction plan", () => {
  it("chains segments from seq 1, each right after the one before, the longer where two start together", () => {
    expect(segmentChain([range(101, 200), range(1, 100), range(201, 250), range(1, 50)]).map((r) => r.key)).toEqual([
      "1-100",
      "101-200",
      "201-250",
    ]);
    // a segment off the chain (after a gap) is not used
    expect(segmentChain([range(1, 100), range(151, 200)]).map((r) => r.key)).toEqual(["1-100"]);
    expect(segmentChain([range(2, 100)])).toEqual([]);
  });

  it("takes whole batches from right after the chain until a segment holds enough records", () => {
    // batches of 100 from seq 1: the segment ends where the batch that reaches 250 records ends
    expect(nextSegment(0, [1, 101, 201, 301, 401], 250)).toEqual({ first: 1, last: 300, batches: 3 });
    expect(nextSegment(300, [301, 401, 501], 150)).toEqual({ first: 301, last: 500, batches: 2 });
  });

  it("waits while the complete batches hold too few records: the last listed batch's end is unknown", () => {
    expect(nextSegment(0, [1, 101, 201], 250)).toBeUndefined();
    expect(nextSegment(0, [1], 1)).toBeUndefined();
  });

  it("never plans across a gap after the chain", () => {
    expect(nextSegment(100, [151, 251, 351], 100)).toBeUndefined();
  });
});
