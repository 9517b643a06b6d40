// s3rver in a process of its own for the S3 rows, so the server and the reader under measurement
// do not share one event loop: prints the endpoint and bucket, stops when stdin closes.
import { startS3rver } from "../tests/s3/s3rver-harness.mjs";

const s3 = await startS3rver();
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint, bucket: s3.bucket })}\n`);
process.stdin.resume();
process.stdin.on("end", async () => {
  await s3.stop();
  process.exit(0);
});
