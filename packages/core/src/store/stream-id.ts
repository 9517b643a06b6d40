import { InvalidStreamIdError } from "../errors.ts";

/** Longest stream id any store accepts (a file name and an S3 key segment both fit). */
export const MAX_STREAM_ID_LENGTH = 128;

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Returns the id when it is safe as a file name and an S3 key segment: 1–128 characters of
 * `[A-Za-z0-9._-]`, starting with a letter or digit, never containing `..`.
 * @throws {InvalidStreamIdError} naming why it was refused.
 */
export function parseStreamId(streamId: unknown): string {
  if (typeof streamId !== "string") throw new InvalidStreamIdError(String(streamId), "must be a string");
  if (streamId.length === 0) throw new InvalidStreamIdError(streamId, "must not be empty");
  if (streamId.length > MAX_STREAM_ID_LENGTH) {
    throw new InvalidStreamIdError(streamId, `must be at most ${MAX_STREAM_ID_LENGTH} characters`);
  }
  if (streamId.includes("..")) throw new InvalidStreamIdError(streamId, 'must not contain ".."');
  if (!STREAM_ID.test(streamId)) {
    throw new InvalidStreamIdError(streamId, "may only hold letters, digits, '.', '_' and '-', starting with a letter or digit");
  }
  return streamId;
}
