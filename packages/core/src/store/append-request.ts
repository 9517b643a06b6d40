import { InvalidAppendError } from "../errors.ts";
import type { AppendRequest } from "./event-store.ts";
import { parseStreamId } from "./stream-id.ts";

/**
 * The checks every adapter makes before touching storage: a safe stream id, a non-negative
 * integer `expectedSeq`, and records numbered consecutively from `expectedSeq + 1`.
 * @throws {InvalidStreamIdError} | {InvalidAppendError}
 */
export function checkAppendRequest(request: AppendRequest): void {
  parseStreamId(request.streamId);
  const { expectedSeq, records } = request;
  if (!Number.isSafeInteger(expectedSeq) || expectedSeq < 0) {
    throw new InvalidAppendError(`expectedSeq must be a non-negative integer, got ${expectedSeq}`);
  }
  if (!Array.isArray(records) || records.length === 0) throw new InvalidAppendError("an append needs at least one record");
  records.forEach((record, index) => {
    if (record.seq !== expectedSeq + 1 + index) {
      throw new InvalidAppendError(`record ${index} has seq ${record.seq}, expected ${expectedSeq + 1 + index}`);
    }
    if (typeof record.line !== "string" || record.line.includes("\n")) {
      throw new InvalidAppendError(`record ${record.seq} line must be a string without newlines`);
    }
  });
}
