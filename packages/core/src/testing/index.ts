// @opsledger/core/testing: helpers for users' tests and ours, with no dependency beyond the core (the fast-check
// arbitraries are in @opsledger/core/testing/property).

export { tamperMemoryRecord } from "../store/memory-store.ts";
export { fixedClock, type ManualClock, sequentialIds } from "./clock.ts";
export {
  type DecidedSpecification,
  type DeciderSpecification,
  type ExpectedEvent,
  type GivenStep,
  given,
  type SpecOptions,
} from "./decider-spec.ts";
export { seededRandom, stateFingerprint } from "./determinism.ts";
export { countEventTypes } from "./event-counts.ts";
export { fleetStateDocument, type GuardedRegistryOptions, guardedRegistry, type LoopResultInput, operator } from "./fixtures.ts";
export type { TamperOperation } from "./tamper.ts";
