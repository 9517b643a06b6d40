import { describe, expect, it } from "vitest";
import { LineFeed } from "../src/line-feed.ts";

const chunks =
  (...parts: (string | Uint8Array)[]) =>
  async () =>
    (async function* () {
      for (const part of parts) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield typeof part === "string" ? new TextEncoder().encode(part) : part;
      }
    })();
const all = async (feed: LineFeed) => {
  const lines: string[] = [];
  for await (const line of feed) lines.push(line);
  return lines;
};

describe("line feed of an object body", () => {
  it("gives the lines of a body split anywhere, a multi-byte character included, as split would", async () => {
    const bytes = new TextEncoder().encode('{"a":"é"}\n{"b":"€"}\n');
    const cuts = [3, 7, 8, 12, 15];
    const parts = cuts.map((cut, i) => bytes.subarray(i === 0 ? 0 : (cuts[i - 1] as number), cut));
    parts.push(bytes.subarray(cuts[cuts.length - 1]));
    expect(await all(LineFeed.of(chunks(...parts)))).toEqual(['{"a":"é"}', '{"b":"€"}']);
  });

  it("keeps a last line cut short, and an empty body as one empty line (both malformed records for verification)", async () => {
    expect(await all(LineFeed.of(chunks("one\ntw")))).toEqual(["one", "tw"]);
    expect(await all(LineFeed.of(chunks()))).toEqual([""]);
  });

  it("gives lines before the body has all arrived", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const feed = LineFeed.of(async () =>
      (async function* () {
        yield new TextEncoder().encode("first\n");
        await held;
        yield new TextEncoder().encode("second\n");
      })(),
    );
    const lines = feed[Symbol.asyncIterator]();
    expect(await lines.next()).toEqual({ value: "first", done: false });
    release();
    expect(await lines.next()).toEqual({ value: "second", done: false });
    expect((await lines.next()).done).toBe(true);
  });

  it("raises a failed transfer to the reader after the lines that came before it", async () => {
    const feed = LineFeed.of(async () =>
      (async function* () {
        yield new TextEncoder().encode("kept\n");
        throw new Error("connection reset");
      })(),
    );
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const line of feed) seen.push(line);
      })(),
    ).rejects.toThrow("connection reset");
    expect(seen).toEqual(["kept"]);
  });
});

describe("line feed read-ahead", () => {
  it("stops pulling the body once 4,096 lines wait untaken, and goes on as they are taken", async () => {
    let pulled = 0;
    const feed = LineFeed.of(async () =>
      (async function* () {
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield new TextEncoder().encode("x\n".repeat(1000));
        }
      })(),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pulled).toBe(5); // 5,000 lines ahead: the transfer waits for the reader
    expect((await all(feed)).length).toBe(100_000);
    expect(pulled).toBe(100);
  });
});
