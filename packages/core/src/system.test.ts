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
