// `@opsledger/core/testing/property`: the fast-check arbitraries, apart from the plain helpers of
// `@opsledger/core/testing`, so a test that only needs a fixed clock does not need fast-check installed.
export { arbitraryLoopId, arbitraryRegistry, arbitraryRollout } from "./arbitraries.ts";
export { arbitraryTamper, type TamperOperation } from "./tamper.ts";
