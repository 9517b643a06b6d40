// s3rver on 127.0.0.1 for tests and benchmarks, plus the one behaviour we add to it.
//
// s3rver ignores If-None-Match on PUT (lib/controllers/object.js), so on its own it would pass an
// adapter that relies on conditional writes while being broken. The middleware below answers a
// PUT with `If-None-Match: *` on an existing key with 412 PreconditionFailed, as S3 does
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html), and
// serializes such PUTs per key so two racing writers get one winner. Nothing else is changed.
// (s3rver's list continuation tokens use DES: run node with --openssl-legacy-provider.)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

const PRECONDITION =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';

function conditionalWrites() {
  const locks = new Map();
  return async (ctx, next) => {
    if (ctx.method !== "PUT" || ctx.get("if-none-match") !== "*") return next();
    const [, bucket, ...rest] = ctx.path.split("/").map((part) => decodeURIComponent(part));
    const key = rest.join("/");
    if (!bucket || !key) return next();
    const id = `${bucket}/${key}`;
    const previous = locks.get(id) ?? Promise.resolve();
    let release;
    const mine = new Promise((resolve) => {
      release = resolve;
    });
    const queued = previous.then(() => mine);
    locks.set(id, queued);
    await previous;
    try {
      if (await ctx.app.store.existsObject(bucket, key)) {
        ctx.status = 412;
        ctx.type = "application/xml";
        ctx.body = PRECONDITION;
        return;
      }
      await next();
    } finally {
      release();
      if (locks.get(id) === queued) locks.delete(id);
    }
  };
}

/** A client for a local s3rver: path style, its fixed credentials, checksums only where S3 requires them, cached middleware. */
export function s3rverClient(endpoint) {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // resolve each command's middleware once, not per request (the store adds no per-command middleware)
    cacheMiddleware: true,
  });
}

/** Starts s3rver on 127.0.0.1 (port 0, a temporary directory) with one bucket. */
export async function startS3rver(options = {}) {
  const directory = await mkdtemp(join(tmpdir(), "opsledger-s3rver-"));
  const bucket = "opsledger-test";
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  if (options.enforceConditionalWrites !== false) server.middleware.unshift(conditionalWrites());
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients = [];
  return {
    endpoint,
    bucket,
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" },
    client() {
      const client = s3rverClient(endpoint);
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
