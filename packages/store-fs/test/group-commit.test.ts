// The group commit's plan, rule by rule: order, conflicts refused alone, segment splits.
import { makeRecords } from "@opsledger/store-contract";
import { describe, expect, it } from "vitest";
import { type Pending, planGroupCommit, type Tail } from "../src/group-commit.ts";

type Record = ReturnType<typeof makeRecords>[number];
const records = makeRecords("s", 10, { payload: (seq) => ({ seq, pad: "x".repeat(40) }) });
const at = (from: number, to: number) => records.slice(from - 1, to) as [Record, ...Record[]];
const pending = (expectedSeq: number, batch: readonly Record[]): Pending => ({
  request: { streamId: "s", expectedSeq, records: batch as [Record, ...Record[]] },
  resolve: () => undefined,
  reject: () => undefined,
});
const bytesOf = (batch: readonly Record[]) => Buffer.byteLength(`${batch.map((r) => r.line).join("\n")}\n`);
const head = (seq: number) => ({ seq, hash: (records[seq - 1] as Record).hash });
const empty: Tail = { name: undefined, size: 0, head: undefined };

describe("fs group commit plan", () => {
  it("writes appends that build on each other into the tail segment in order, each acknowledged with its own head", () => {
    const tail: Tail = { name: "00000000000000000001.ndjson", size: bytesOf(at(1, 2)), head: head(2) };
    const queue = [pending(2, at(3, 3)), pending(3, at(4, 6))];
    const plan = planGroupCommit(tail, queue, 1 << 20);
    expect(plan.conflicts).toEqual([]);
    expect(plan.chunks).toHaveLength(1);
    const [chunk] = plan.chunks;
    expect(chunk).toMatchObject({ name: tail.name, create: false });
    expect(chunk?.parts.join("")).toBe(
      `${at(3, 6)
        .map((r) => r.line)
        .join("\n")}\n`,
    );
    expect(chunk?.pendings.map((p) => p.head)).toEqual([head(3), head(6)]);
  });

  it("refuses an append that does not build on the head before it, alone, and still writes the rest", () => {
    const queue = [pending(0, at(1, 2)), pending(0, at(1, 1)), pending(2, at(3, 3))];
    const plan = planGroupCommit(empty, queue, 1 << 20);
    expect(plan.conflicts).toEqual([{ pending: queue[1], headSeq: 2 }]);
    expect(plan.chunks.flatMap((c) => c.pendings.map((p) => p.pending))).toEqual([queue[0], queue[2]]);
  });

  it("creates the first segment of an empty stream, named by its first seq", () => {
    const plan = planGroupCommit(empty, [pending(0, at(1, 1))], 1 << 20);
    expect(plan.chunks.map((c) => ({ name: c.name, create: c.create }))).toEqual([{ name: "00000000000000000001.ndjson", create: true }]);
  });

  it("starts a new segment where the next append would take the current one past segmentBytes", () => {
    const one = bytesOf(at(1, 1));
    const tail: Tail = { name: "00000000000000000001.ndjson", size: one, head: head(1) };
    // room for one more record of this size in the tail segment, not two
    const queue = [pending(1, at(2, 2)), pending(2, at(3, 3)), pending(3, at(4, 4))];
    const plan = planGroupCommit(tail, queue, 2 * one + 10);
    expect(plan.chunks.map((c) => ({ name: c.name, create: c.create, appends: c.pendings.length }))).toEqual([
      { name: "00000000000000000001.ndjson", create: false, appends: 1 },
      { name: "00000000000000000003.ndjson", create: true, appends: 2 },
    ]);
  });

  it("gives an append larger than segmentBytes a segment of its own rather than refusing it", () => {
    const tail: Tail = { name: "00000000000000000001.ndjson", size: bytesOf(at(1, 1)), head: head(1) };
    const plan = planGroupCommit(tail, [pending(1, at(2, 9)), pending(9, at(10, 10))], 64);
    expect(plan.chunks.map((c) => ({ name: c.name, appends: c.pendings.length }))).toEqual([
      { name: "00000000000000000002.ndjson", appends: 1 },
      { name: "00000000000000000010.ndjson", appends: 1 },
    ]);
  });
});
