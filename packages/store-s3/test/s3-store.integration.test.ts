// Opt-in: the contract against a real bucket. OPSLEDGER_S3_TEST_BUCKET names it (credentials and
// region from the standard AWS environment); REQUIRE_S3=1 makes its absence a failure, not a skip.
import { randomUUID } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { describeEventStoreContract } from "@opsledger/store-contract";
import { describe, it } from "vitest";
import { createS3EventStore } from "../src/index.ts";

const bucket = process.env["OPSLEDGER_S3_TEST_BUCKET"];
if (bucket) {
  const client = new S3Client({});
  describeEventStoreContract(`s3 (real bucket ${bucket})`, {
    create: async () =>
      createS3EventStore({ client, bucket, prefix: `opsledger-contract/${randomUUID()}`, requireConditionalWrites: true }),
    tamper: async () => {
      throw new Error("tampering with a real bucket is not part of the opt-in run");
    },
    knownGaps: [
      {
        test: "surfaces a tampered record through verifyLog at the right seq",
        reason: "the opt-in run never rewrites objects in a real bucket",
        issue: "covered against s3rver in s3-store.contract.test.ts",
      },
    ],
  });
} else {
  describe("s3 against a real bucket", () => {
    it.skipIf(process.env["REQUIRE_S3"] !== "1")("needs OPSLEDGER_S3_TEST_BUCKET (REQUIRE_S3=1 set, so this fails)", () => {
      throw new Error("REQUIRE_S3=1 but OPSLEDGER_S3_TEST_BUCKET is not set");
    });
  });
}
