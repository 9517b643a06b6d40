import { resolve } from "node:path";
import type { EventStore } from "@opsledger/core";
import { RefusedError } from "./exit-codes.ts";

/** Where a store lives, from `--store`: a directory, or `s3://bucket/prefix`. */
export type StoreLocation =
  | { readonly kind: "fs"; readonly dir: string }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string };

// S3's bucket naming rules (general purpose buckets)
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseStoreLocation(value: string, cwd: string): StoreLocation {
  if (value.startsWith("s3://")) {
    const rest = value.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? "" : rest.slice(slash + 1).replace(/\/+$/, "");
    if (!bucket) throw new RefusedError(`--store ${value}: an S3 location needs a bucket (s3://bucket/prefix)`);
    if (!BUCKET_NAME.test(bucket) || bucket.includes(".."))
      throw new RefusedError(
        `--store ${value}: "${bucket}" is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)`,
      );
    if (prefix.split("/").some((part) => part === "." || part === ".."))
      throw new RefusedError(`--store ${value}: a prefix has no "." or ".." parts`);
    return { kind: "s3", bucket, prefix };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith("file://")) {
    throw new RefusedError(`--store ${value}: only directories and s3:// locations are supported`);
  }
  return { kind: "fs", dir: resolve(cwd, value.replace(/^file:\/\//, "")) };
}

/**
 * Opens the store of a location. The S3 adapter is loaded only for s3:// locations, so local use
 * never loads the AWS SDK; its endpoint and credentials come from the standard AWS environment.
 */
/** What the fs store repaired or found at a stream's end, for the user to see (a stderr line and a `--json` field). */
export interface StoreFindings {
  repaired(event: { kind: string; streamId: string; segment: string; offset: number; truncatedBytes: number }): void;
  damaged(damage: { kind: string; streamId: string; segment: string; offset: number; bytes: number }): void;
}

export async function openStore(
  location: StoreLocation,
  env: Readonly<Record<string, string | undefined>>,
  findings?: StoreFindings,
): Promise<EventStore> {
  if (location.kind === "fs") {
    const { createFsEventStore } = await import("@opsledger/store-fs");
    return createFsEventStore({
      dir: location.dir,
      ...(findings ? { onRecovery: findings.repaired, onTailDamage: findings.damaged } : {}),
    });
  }
  let module: {
    openS3StoreFromEnv(options: { bucket: string; prefix: string; env: Readonly<Record<string, string | undefined>> }): Promise<EventStore>;
  };
  try {
    // a variable specifier keeps the S3 adapter an optional, lazily loaded dependency
    const specifier = "@opsledger/store-s3";
    module = await import(specifier);
  } catch (error) {
    throw new RefusedError(`s3:// stores need @opsledger/store-s3 installed (${(error as Error).message})`);
  }
  return module.openS3StoreFromEnv({ bucket: location.bucket, prefix: location.prefix, env });
}
