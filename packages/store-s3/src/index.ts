export { openS3NoteFolderFromEnv, openS3StoreFromEnv, type S3EnvironmentOptions } from "./env.ts";
export { createS3NoteFolder, type S3NoteFolder } from "./note-folder.ts";
export { createS3EventStore, type S3EventStore, type S3EventStoreOptions } from "./s3-store.ts";
