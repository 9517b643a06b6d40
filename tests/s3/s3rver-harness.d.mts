import type { S3Client } from "@aws-sdk/client-s3";

export interface S3rverHarness {
  readonly endpoint: string;
  readonly bucket: string;
  /** A client for the local server (path style, checksums only where required). */
  client(): S3Client;
  /** The environment the CLI reads to reach this server. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with the If-None-Match precondition middleware (unless disabled). */
export function startS3rver(options?: { readonly enforceConditionalWrites?: boolean }): Promise<S3rverHarness>;

/** A client for a local s3rver: path style, its fixed credentials, checksums only where S3 requires them. */
export function s3rverClient(endpoint: string): S3Client;
