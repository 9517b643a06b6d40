export { openS3StoreFromEnv, type S3EnvironmentOptions } from "./env.ts";
export { createS3EventStore, type S3EventStore, type S3EventStoreOptions } from "./s3-store.ts";
