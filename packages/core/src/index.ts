// The public surface of @opsledger/core: explicit named re-exports only.

export { type DecisionCheck, type DecisionReport, decisionCheck, verifyDecisions } from "./audit/decisions.ts";
export { auditTimeline } from "./audit/timeline.ts";
export { assertCanonicalizable, canonicalJson, type JsonValue } from "./chain/canonical-json.ts";
export { GENESIS_HASH, sha256Hex } from "./chain/hash.ts";
export { ENVELOPE_VERSION, type Envelope, type OpenedLine, seal } from "./chain/seal.ts";
export {
  type AnchorResult,
  type BreakKind,
  type ChainBreak,
  type CheckpointMemory,
  type TailDamageFinding,
  type VerificationReport,
  type VerifyOptions,
  verifyLog,
} from "./chain/verify.ts";
export { registryJsonSchema } from "./contract/json-schema.ts";
export {
  type AutonomousPolicy,
  type Governance,
  type NormalizedLoop,
  type Policy,
  type PolicyMode,
  type Registry,
  RegistrySchema,
  type Rollout,
} from "./contract/normalized-registry.ts";
export {
  type ParseRegistryOptions,
  parseRegistry,
  policyHash,
  REGISTRY_DEFAULTS,
  type RegistryParseResult,
  ROOT_PATH,
  safeParseRegistry,
} from "./contract/registry.ts";
export { RegistryInputSchema } from "./contract/registry-schema.ts";
export {
  CATEGORIES,
  type Category,
  CONFIDENCE_RANK,
  CONFIDENCES,
  type Confidence,
  INTENTS,
  type Intent,
  SEVERITIES,
  SEVERITY_RANK,
  type Severity,
  TAXONOMY,
  TAXONOMY_VERSION,
} from "./contract/taxonomy.ts";
export { isTimestamp, parseTimestamp } from "./contract/timestamp.ts";
export { type DrillOptions, type DrillResult, runDrill } from "./drills/drills.ts";
export {
  ChainIntegrityError,
  type ErrorCode,
  InvalidAppendError,
  InvalidEventError,
  InvalidRegistryError,
  InvalidStreamIdError,
  InvalidValueError,
  type Issue,
  isOpsledgerError,
  OpsledgerError,
  OutcomeNotRecordedError,
  PreconditionError,
  StoreClosedError,
  StoreIntegrityError,
  StoreUnavailableError,
  StreamConflictError,
  type UnrecordedOutcome,
} from "./errors.ts";
export {
  CANONICALIZATION,
  EVENT_SCHEMAS,
  type EventData,
  type EventType,
  HASH_ALGORITHM,
  isEventType,
  LOG_FORMAT,
  type NewEvent,
  validateEvent,
} from "./events/catalogue.ts";
export {
  type AutoPauseMetrics,
  type AutoPauseTripped,
  type CandidateDecision,
  type DispatchCompleted,
  type DispatchRequested,
  type DispatchSkipped,
  DRILL_IDS,
  type DrillCheck,
  type DrillId,
  type DrillRecorded,
  type FleetObserved,
  HEALTH_STATUSES,
  type HealthStatus,
  type IntentAcknowledged,
  type LoopResult,
  type OperatorGovernance,
  OUTCOME_STATUSES,
  type PlannedDispatch,
  POLICY_CHANGES,
  type PolicyApplied,
  type PolicyChange,
  type PolicyEvaluated,
  type RecordedOperatorGovernance,
} from "./events/fleet-events.ts";
export type { AutoPauseState, BatchOutcome } from "./fleet/autopause.ts";
export {
  CANARY_EXCLUDED,
  type CohortPreview,
  type CohortRollout,
  type CohortSelection,
  cohortBucket,
  previewCohort,
  SCOPE_EXCLUDED,
  selectCohort,
} from "./fleet/cohort.ts";
export type {
  ApplyGovernance,
  ApplyResult,
  ObserveResult,
  OperatorAction,
  OperatorResult,
} from "./fleet/commands.ts";
export {
  decide,
  type FleetCommand,
  type FleetCommandResults,
  OPERATOR_COMMANDS,
  type OperatorCommand,
} from "./fleet/decide.ts";
export type { DecideContext, Decision, Rejection, RejectionCode } from "./fleet/decision.ts";
export type { DispatchContext, Dispatcher, DispatchReport } from "./fleet/dispatch.ts";
export type { DispatchBatch, DispatchResultEntry } from "./fleet/dispatch-commands.ts";
export { decideEvaluation, type EvaluationContext, type EvaluationDecision } from "./fleet/evaluate.ts";
export { assessGovernance, type GovernanceAssessment, type GovernancePosture, REVIEW_DUE_SOON_SECONDS } from "./fleet/governance.ts";
export { initialLedgerState, type LedgerState } from "./fleet/ledger-state.ts";
export { FleetStateInputSchema, readFleetState } from "./fleet/observe.ts";
export { computePlan, IDEMPOTENCY_PREFIX, type Plan, type PlannedIntent, type PlanSummary } from "./fleet/plan.ts";
export { changedPaths } from "./fleet/policy-change.ts";
export {
  POLICY_GATED_CODES,
  REASON_CODES,
  type ReasonCode,
  type ReasonCodeDefinition,
  type ReasonFamily,
  ROLLOUT_GATED_CODES,
  reasonFamily,
} from "./fleet/reason-codes.ts";
export type {
  AppliedPolicy,
  BatchRecord,
  CandidateInstance,
  FleetState,
  IntentRecord,
  OperatorLatch,
  OutcomeTotals,
  TimesByCategory,
} from "./fleet/state.ts";
export {
  type AutomaticCheckpoints,
  type DispatchOptions,
  type Ledger,
  type LedgerOptions,
  openLedger,
  type ReplayUntil,
  replay,
  type Snapshots,
} from "./ledger/ledger.ts";
export { type SnapshotCheck, type SnapshotFinding, snapshotCheck, verifySnapshots } from "./ledger/snapshots.ts";
export type { EvaluationDocument } from "./projections/evaluation.ts";
export { type CandidateExplanation, type ExplainCheck, type Explanation, explain, renderExplanation } from "./projections/explain.ts";
export { type FleetStatus, fleetStatus } from "./projections/status.ts";
export { type TimelineEntry, timelineEntry } from "./projections/timeline.ts";
export {
  type BundleVerification,
  createCheckpoint,
  type ProofBundle,
  proveRecord,
  UnprovableLogError,
  verifyBundle,
} from "./proof/bundle.ts";
export {
  type Checkpoint,
  checkpointText,
  ledgerOrigin,
  openCheckpoint,
  parseCheckpointText,
  readCheckpointNote,
  signCheckpoint,
  type VerifiedCheckpoint,
} from "./proof/checkpoint.ts";
export {
  consistencyProof,
  type Digest,
  inclusionProof,
  MerkleFrontier,
  recordLeaf,
  verifyConsistency,
  verifyInclusion,
} from "./proof/merkle.ts";
export {
  InvalidKeyError,
  isKeyName,
  type NoteSigner,
  type NoteVerifier,
  noteSigner,
  type OpenedNote,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signingKeyFromSeed,
  signNote,
} from "./proof/note.ts";
export type {
  AppendRequest,
  EventStore,
  ReadOptions,
  SealedRecord,
  StoredRecord,
  StoredSnapshot,
  StreamHead,
} from "./store/event-store.ts";
export { createMemoryEventStore } from "./store/memory-store.ts";
export { parseStreamId } from "./store/stream-id.ts";
export { type Clock, DEFAULT_CONFLICT_BUDGET_MS, type IdGenerator, type RetryPolicy, systemClock, ulidGenerator } from "./system.ts";
