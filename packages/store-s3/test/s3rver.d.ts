// s3rver ships no types; the harness uses only its constructor, run() and close().
declare module "s3rver" {
  export default class S3rver {
    constructor(options: Record<string, unknown>);
  }
}
