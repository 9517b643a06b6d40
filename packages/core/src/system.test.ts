import { describe, expect, it } from "vitest";
import { ulidGenerator } from "./system.ts";
import { fixedClock } from "./testing/clock.ts";

describe("ulidGenerator", () => {
  it("keeps ids made in one millisecond, or after the clock stepped back, in the order they were made", () => {
    const clock = fixedClock("2026-03-01T00:00:00.000Z");
    const ids = ulidGenerator(clock);
    const made = Array.from({ length: 1000 }, () => ids.next());
    clock.set("2026-02-01T00:00:00.000Z");
    made.push(ids.next());
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(made[0]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});

describe("ulidGenerator's randomness", () => {
  it("gives ids made in different milliseconds independent random parts, every base32 digit about equally often", () => {
    const clock = fixedClock("2026-03-01T00:00:00.000Z");
    const ids = ulidGenerator(clock);
    const counts = new Map<string, number>();
    const randomParts = new Set<string>();
    // past the 4 KiB pool several times: 2,000 ids × 16 random characters
    for (let i = 0; i < 2000; i++) {
      clock.advance(1);
      const random = ids.next().slice(10);
      randomParts.add(random);
      for (const digit of random) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    }
    expect(randomParts.size).toBe(2000);
    expect(counts.size).toBe(32);
    // 32,000 draws over 32 digits: 1,000 each expected; 6 standard deviations (≈ 31 each) either side
    for (const [digit, n] of counts) expect(Math.abs(n - 1000), digit).toBeLessThan(190);
  });
});
