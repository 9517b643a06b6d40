import { describe, expect, it } from "vitest";
import * as errors from "./errors.ts";

// each class's code is its name without "Error", in SCREAMING_SNAKE_CASE: one word per concept
const codeOf = (className: string): string =>
  className
    .replace(/Error$/, "")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toUpperCase();

const issue = { path: "policy.mode", message: "must be advisory or guarded_auto" };
const made: errors.OpsledgerError[] = [
  new errors.StreamConflictError("s", 1, 2),
  new errors.InvalidValueError("a.b", "not finite"),
  new errors.InvalidEventError("FleetObserved", [issue]),
  new errors.InvalidStreamIdError("../x", "escapes"),
  new errors.InvalidAppendError("not consecutive"),
  new errors.StoreUnavailableError("fs", "append", "s"),
  new errors.StoreClosedError("fs"),
  new errors.StoreIntegrityError("s", 3, undefined, "gone"),
  new errors.ChainIntegrityError("s", 3, "hash_mismatch", "bytes differ"),
  new errors.InvalidRegistryError([issue]),
  new errors.PreconditionError("no policy"),
  new errors.OutcomeNotRecordedError([]),
];

describe("opsledger errors", () => {
  it("carry the code their class names (StoreUnavailableError → STORE_UNAVAILABLE), every class", () => {
    const exported = Object.keys(errors).filter((name) => /^[A-Z]\w*Error$/.test(name) && name !== "OpsledgerError");
    expect(made.map((error) => error.name).sort()).toEqual(exported.sort());
    for (const error of made) {
      expect(error.code, error.name).toBe(codeOf(error.name));
      expect(errors.isOpsledgerError(error, error.code), error.name).toBe(true);
    }
  });
});
