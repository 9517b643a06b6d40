// @opsledger/core/testing: helpers for users' tests and ours (needs fast-check for the arbitraries).

export { tamperMemoryRecord } from "../store/memory-store.ts";
export { arbitraryLoopId, arbitraryRegistry, arbitraryRollout } from "./arbitraries.ts";
export { fixedClock, type ManualClock, sequentialIds } from "./clock.ts";
export { seededRandom, stateFingerprint } from "./determinism.ts";
export { countEventTypes } from "./event-counts.ts";
export { fleetStateDocument, type GuardedRegistryOptions, guardedRegistry, type LoopResultInput, operator } from "./fixtures.ts";
export { given, type Outcome, type Scenario, type ScenarioOptions } from "./scenario.ts";
export { arbitraryTamper, type TamperOperation } from "./tamper.ts";
