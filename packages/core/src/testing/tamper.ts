import fc from "fast-check";

/** One way to damage a stored log, as an auditor's threat model lists them. */
export type TamperOperation =
  | { readonly kind: "flip"; readonly seq: number; readonly offset: number; readonly replacement: string }
  | { readonly kind: "delete"; readonly seq: number }
  | { readonly kind: "duplicate"; readonly seq: number; readonly insertAfter: number }
  | { readonly kind: "swap"; readonly seq: number }
  | { readonly kind: "rehash"; readonly seq: number }
  | { readonly kind: "splice"; readonly seq: number };

/** Arbitrary tamper operations on a log of `length` records (`length` ≥ 2). */
export function arbitraryTamper(length: number): fc.Arbitrary<TamperOperation> {
  const seq = fc.integer({ min: 1, max: length });
  return fc.oneof(
    fc.record({
      kind: fc.constant("flip" as const),
      seq,
      offset: fc.nat(),
      replacement: fc.constantFrom(...'0123456789abcdefxyzAZ{}[]",:- é\\'),
    }),
    fc.record({ kind: fc.constant("delete" as const), seq }),
    fc.record({ kind: fc.constant("duplicate" as const), seq, insertAfter: fc.integer({ min: 1, max: length }) }),
    fc.record({ kind: fc.constant("swap" as const), seq: fc.integer({ min: 1, max: length - 1 }) }),
    fc.record({ kind: fc.constant("rehash" as const), seq }),
    fc.record({ kind: fc.constant("splice" as const), seq: fc.integer({ min: 2, max: length }) }),
  );
}
