import { z } from "zod";
import type { JsonValue } from "../chain/canonical-json.ts";
import type { Envelope } from "../chain/seal.ts";
import { InvalidEventError, type Issue } from "../errors.ts";
import {
  AutoPauseResumedSchema,
  AutoPauseTrippedSchema,
  DispatchCompletedSchema,
  DispatchRequestedSchema,
  DispatchSkippedSchema,
  DrillRecordedSchema,
  FleetObservedSchema,
  IntentAcknowledgedSchema,
  KillSwitchEngagedSchema,
  KillSwitchReleasedSchema,
  PolicyAppliedSchema,
  PolicyEvaluatedSchema,
  RolloutPausedSchema,
  RolloutResumedSchema,
} from "./fleet-events.ts";

/** Identifies the bytes format of every record; recorded in `LedgerCreated`. */
export const LOG_FORMAT = "opsledger/v1";
export const HASH_ALGORITHM = "sha256";
export const CANONICALIZATION = "fast-json-stable-stringify@2";

export const LedgerCreatedSchema = z
  .object({
    fleetId: z.string().min(1),
    format: z.literal(LOG_FORMAT),
    hash: z.literal(HASH_ALGORITHM),
    canonicalization: z.literal(CANONICALIZATION),
  })
  .strict();
export type LedgerCreated = z.infer<typeof LedgerCreatedSchema>;

/**
 * The event catalogue: every type a ledger may hold, with the zod schema of its data. An append
 * of a type not listed here, or of data its schema refuses, is rejected with `InvalidEventError`.
 */
export const EVENT_SCHEMAS = {
  LedgerCreated: LedgerCreatedSchema,
  PolicyApplied: PolicyAppliedSchema,
  KillSwitchEngaged: KillSwitchEngagedSchema,
  KillSwitchReleased: KillSwitchReleasedSchema,
  RolloutPaused: RolloutPausedSchema,
  RolloutResumed: RolloutResumedSchema,
  FleetObserved: FleetObservedSchema,
  PolicyEvaluated: PolicyEvaluatedSchema,
  AutoPauseTripped: AutoPauseTrippedSchema,
  AutoPauseResumed: AutoPauseResumedSchema,
  DispatchRequested: DispatchRequestedSchema,
  DispatchCompleted: DispatchCompletedSchema,
  DispatchSkipped: DispatchSkippedSchema,
  IntentAcknowledged: IntentAcknowledgedSchema,
  DrillRecorded: DrillRecordedSchema,
} as const;

/** Every event type of the catalogue. */
export type EventType = keyof typeof EVENT_SCHEMAS;
/** The data of one event type. */
export type EventData<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;

/** An event about to be appended: the ledger adds seq, id, at and prevHash. */
export type NewEvent = {
  [T in EventType]: { readonly type: T; readonly data: EventData<T>; readonly traceId?: string; readonly actor?: string };
}[EventType];

/**
 * A folded envelope with its data typed by its event type: the typed event union the fold, the
 * projections and the audit switch on. Only a record the chain verified is one (see `fleetEvent`).
 */
export type FleetEvent = {
  [T in EventType]: Omit<Envelope, "type" | "data"> & { readonly type: T; readonly data: EventData<T> };
}[EventType];

/**
 * Types an envelope by its event type. Sound for every record of a log: the ledger validates
 * each event against the catalogue before sealing it, and the hash chain keeps it as sealed; an
 * unknown type (a later format) types as none of the union's members and folds to nothing.
 */
export const fleetEvent = (envelope: Envelope): FleetEvent => envelope as unknown as FleetEvent;

/** True when `type` is in the catalogue. */
export const isEventType = (type: string): type is EventType => Object.hasOwn(EVENT_SCHEMAS, type);

/** zod issues as opsledger issues: a dotted JSON path and zod's message. */
export const issuesFromZod = (error: z.ZodError, prefix = ""): Issue[] =>
  error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map((key) => (typeof key === "number" ? `[${key}]` : String(key)))]
      .filter((part) => part !== "")
      .join(".")
      .replace(/\.\[/g, "["),
    message: issue.message,
  }));

/**
 * Checks an event against the catalogue and returns its data as parsed by the schema.
 * @throws {InvalidEventError} for an unknown type or invalid data, listing every issue.
 */
export function validateEvent(type: string, data: unknown): JsonValue {
  if (!isEventType(type)) throw new InvalidEventError(type, [{ path: "type", message: `unknown event type "${type}"` }]);
  const parsed = EVENT_SCHEMAS[type].safeParse(data);
  if (!parsed.success) throw new InvalidEventError(type, issuesFromZod(parsed.error, "data"));
  return parsed.data as JsonValue;
}
