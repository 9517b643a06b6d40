import { isOpsledgerError, StoreUnavailableError } from "@opsledger/core/store";

/** What the AWS SDK v3 puts on its errors (and on errors of S3-compatible servers). */
interface SdkError {
  readonly name?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

export const statusOf = (error: unknown): number | undefined => (error as SdkError | undefined)?.$metadata?.httpStatusCode;
export const codeOf = (error: unknown): string | undefined =>
  (error as SdkError | undefined)?.name ?? (error as SdkError | undefined)?.Code;

/** The write lost the race for its key: 412 PreconditionFailed. */
export const isPreconditionFailed = (error: unknown): boolean => statusOf(error) === 412 || codeOf(error) === "PreconditionFailed";

/** Two conditional writes to one key overlapped: 409 ConditionalRequestConflict, to be retried. */
export const isConditionalConflict = (error: unknown): boolean => statusOf(error) === 409 || codeOf(error) === "ConditionalRequestConflict";

export const isNotFound = (error: unknown): boolean =>
  statusOf(error) === 404 || codeOf(error) === "NoSuchKey" || codeOf(error) === "NotFound";

/** Maps any other SDK error to the port's StoreUnavailableError, keeping it as `cause`. */
export function unavailable(operation: string, streamId: string | undefined, error: unknown): Error {
  if (isOpsledgerError(error)) return error;
  return new StoreUnavailableError("s3", operation, streamId, { cause: error });
}
