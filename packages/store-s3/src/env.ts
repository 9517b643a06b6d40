import { S3Client } from "@aws-sdk/client-s3";
import { createS3NoteFolder, type S3NoteFolder } from "./note-folder.ts";
import { createS3EventStore, type S3EventStore } from "./s3-store.ts";

/** Options of `openS3StoreFromEnv`. */
export interface S3EnvironmentOptions {
  readonly bucket: string;
  readonly prefix: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * A client and store from the standard AWS environment, for the CLI: `AWS_REGION` (default
 * us-east-1), `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` for S3-compatible endpoints (path-style
 * addressing then, unless `OPSLEDGER_S3_FORCE_PATH_STYLE=false`), credentials from the SDK's
 * default chain. Checksums are sent only where S3 requires them, since several S3-compatible
 * servers reject the SDK's default CRC32 headers. Middleware is cached per command class
 * (`cacheMiddleware`): the store adds no per-command middleware, and a replay's GETs cost less.
 */
export async function openS3StoreFromEnv(options: S3EnvironmentOptions): Promise<S3EventStore> {
  const { env } = options;
  const client = clientFromEnv(env);
  const store = createS3EventStore({
    client,
    bucket: options.bucket,
    prefix: options.prefix,
    requireConditionalWrites: env["OPSLEDGER_S3_REQUIRE_CONDITIONAL_WRITES"] === "true",
  });
  const close = store.close;
  return {
    ...store,
    close: async () => {
      await close();
      client.destroy();
    },
  };
}

/** A folder of checkpoints under a bucket and prefix, on a client from the same environment (see `openS3StoreFromEnv`). */
export function openS3NoteFolderFromEnv(options: S3EnvironmentOptions): S3NoteFolder & { close(): void } {
  const client = clientFromEnv(options.env);
  return { ...createS3NoteFolder({ client, bucket: options.bucket, prefix: options.prefix }), close: () => client.destroy() };
}

function clientFromEnv(env: Readonly<Record<string, string | undefined>>): S3Client {
  const endpoint = env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"];
  return new S3Client({
    region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1",
    ...(endpoint ? { endpoint, forcePathStyle: env["OPSLEDGER_S3_FORCE_PATH_STYLE"] !== "false" } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // resolve each command's middleware stack once per command class, not once per request
    cacheMiddleware: true,
  });
}
