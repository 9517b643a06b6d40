import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  consistencyProof,
  EMPTY_ROOT,
  hashLeaf,
  inclusionProof,
  MerkleFrontier,
  subtreeRoot,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.ts";
import vectors from "./testdata/transparency-dev-merkle-vectors.json" with { type: "json" };

const b64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "hex"));

// RFC 6962's test tree (transparency-dev/merkle testonly/constants.go): its eight leaf inputs and
// the root of every prefix of it
const LEAF_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(fromHex);
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
const LEAVES = LEAF_INPUTS.map(hashLeaf);
const leafAt = (index: number) => LEAVES[index] as Uint8Array;

interface InclusionVector {
  file: string;
  leafIdx: number;
  treeSize: number;
  root: string | null;
  leafHash: string | null;
  proof: string[] | null;
  wantErr: boolean;
}
interface ConsistencyVector {
  file: string;
  size1: number;
  size2: number;
  root1: string | null;
  root2: string | null;
  proof: string[] | null;
  wantErr: boolean;
}

describe("the RFC 9162 Merkle tree", () => {
  it("builds the roots of RFC 6962's test tree leaf by leaf, in O(log n) state", () => {
    let frontier = MerkleFrontier.EMPTY;
    expect(hex(frontier.root())).toBe(ROOTS[0]);
    expect(hex(EMPTY_ROOT)).toBe(ROOTS[0]);
    LEAVES.forEach((leaf, index) => {
      const before = frontier;
      frontier = frontier.append(leaf);
      expect(before.size, "append does not change the frontier it extends").toBe(index);
      expect(hex(frontier.root())).toBe(ROOTS[index + 1]);
      expect(hex(subtreeRoot(leafAt, 0, index + 1))).toBe(ROOTS[index + 1]);
    });
  });

  it("verifies every transparency-dev/merkle inclusion vector as its authors expect", () => {
    const cases = vectors.inclusion as InclusionVector[];
    expect(cases.length).toBeGreaterThan(90);
    for (const v of cases) {
      const ok = verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash ?? ""), (v.proof ?? []).map(b64), b64(v.root ?? ""));
      expect(ok, v.file).toBe(!v.wantErr);
    }
  });

  it("verifies every transparency-dev/merkle consistency vector as its authors expect", () => {
    const cases = vectors.consistency as ConsistencyVector[];
    expect(cases.length).toBeGreaterThan(90);
    for (const v of cases) {
      const ok = verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1 ?? ""), b64(v.root2 ?? ""));
      expect(ok, v.file).toBe(!v.wantErr);
    }
  });

  it("generates the proofs of the vectors' happy paths byte for byte", () => {
    for (const v of (vectors.inclusion as InclusionVector[]).filter((c) => !c.wantErr && c.treeSize <= 8)) {
      expect(
        inclusionProof(leafAt, v.leafIdx, v.treeSize).map((p) => Buffer.from(p).toString("base64")),
        v.file,
      ).toEqual(v.proof ?? []);
    }
    for (const v of (vectors.consistency as ConsistencyVector[]).filter((c) => !c.wantErr && c.size2 <= 8)) {
      expect(
        consistencyProof(leafAt, v.size1, v.size2).map((p) => Buffer.from(p).toString("base64")),
        v.file,
      ).toEqual(v.proof ?? []);
    }
  });

  it("proves every leaf of every tree up to 70 leaves, and every pair of sizes consistent", () => {
    const leaves = Array.from({ length: 70 }, (_, i) => hashLeaf(Uint8Array.of(i, i >> 8)));
    const at = (i: number) => leaves[i] as Uint8Array;
    let frontier = MerkleFrontier.EMPTY;
    const roots = [frontier.root()];
    for (const leaf of leaves) {
      frontier = frontier.append(leaf);
      roots.push(frontier.root());
    }
    for (let size = 1; size <= leaves.length; size++) {
      const root = roots[size] as Uint8Array;
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(at, index, size);
        expect(verifyInclusion(index, size, at(index), proof, root)).toBe(true);
        // the same path for another leaf, index or size proves nothing
        expect(verifyInclusion(index, size, at((index + 1) % leaves.length), proof, root)).toBe(false);
        if (size > 1) expect(verifyInclusion((index + 1) % size, size, at(index), proof, root)).toBe(false);
        // a proof of a smaller tree does not hold in the larger one (the size and root come together, from a checkpoint)
        if (size < leaves.length) expect(verifyInclusion(index, size + 1, at(index), proof, roots[size + 1] as Uint8Array)).toBe(false);
      }
      for (let old = 1; old <= size; old++) {
        const proof = consistencyProof(at, old, size);
        expect(verifyConsistency(old, size, proof, roots[old] as Uint8Array, root)).toBe(true);
        if (old < size) expect(verifyConsistency(old, size, proof, roots[old - 1] as Uint8Array, root)).toBe(false);
      }
    }
  });

  it("rejects truncated, extended and altered proofs (property)", () => {
    const leaves = Array.from({ length: 300 }, (_, i) => hashLeaf(Uint8Array.of(i & 255, i >> 8, 7)));
    const at = (i: number) => leaves[i] as Uint8Array;
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }), fc.nat())),
        ([size, index, pick]) => {
          const root = subtreeRoot(at, 0, size);
          const proof = inclusionProof(at, index, size);
          expect(verifyInclusion(index, size, at(index), proof, root)).toBe(true);
          expect(verifyInclusion(index, size, at(index), proof.slice(0, -1), root)).toBe(false);
          expect(verifyInclusion(index, size, at(index), [...proof, at(0)], root)).toBe(false);
          const altered = proof.map((p) => new Uint8Array(p));
          const node = altered[pick % altered.length] as Uint8Array;
          node[pick % 32] = (node[pick % 32] as number) ^ 1;
          expect(verifyInclusion(index, size, at(index), altered, root)).toBe(false);
          const old = (pick % size) + 1;
          if (old < size) {
            const consistency = consistencyProof(at, old, size);
            const oldRoot = subtreeRoot(at, 0, old);
            expect(verifyConsistency(old, size, consistency, oldRoot, root)).toBe(true);
            expect(verifyConsistency(old, size, consistency.slice(1), oldRoot, root)).toBe(false);
            expect(verifyConsistency(old, size, [...consistency, at(1)], oldRoot, root)).toBe(false);
            expect(verifyConsistency(old, size, consistency, oldRoot, subtreeRoot(at, 0, size - 1))).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses proofs for leaves and sizes that do not exist", () => {
    expect(() => inclusionProof(leafAt, 0, 0)).toThrow(RangeError);
    expect(() => inclusionProof(leafAt, 8, 8)).toThrow(RangeError);
    expect(() => consistencyProof(leafAt, 5, 4)).toThrow(RangeError);
    expect(verifyInclusion(0, 0, leafAt(0), [], EMPTY_ROOT)).toBe(false);
  });
});
