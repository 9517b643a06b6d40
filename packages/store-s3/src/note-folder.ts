// A folder of small text objects (signed checkpoints) under a bucket and prefix: where the CLI
// keeps checkpoints apart from the records, in another bucket or under another prefix.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { StoreUnavailableError } from "@opsledger/core/store";

/** Text objects under one prefix: listed by name, read, written. */
export interface S3NoteFolder {
  /** Every object whose name ends with `suffix`, with its text, by ascending name. */
  list(suffix: string): Promise<{ readonly name: string; readonly text: string }[]>;
  put(name: string, text: string): Promise<void>;
}

export function createS3NoteFolder(options: { readonly client: S3Client; readonly bucket: string; readonly prefix: string }): S3NoteFolder {
  const { client, bucket } = options;
  const prefix = options.prefix === "" ? "" : `${options.prefix.replace(/\/+$/, "")}/`;
  const unavailable = (operation: string, cause: unknown) => new StoreUnavailableError("s3", operation, undefined, { cause });
  return {
    async list(suffix) {
      const names: string[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: "/", ContinuationToken: token }),
          );
          for (const object of page.Contents ?? []) if (object.Key?.endsWith(suffix)) names.push(object.Key);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        names.sort();
        return await Promise.all(
          names.map(async (key) => {
            const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            return { name: key.slice(prefix.length), text: (await output.Body?.transformToString("utf-8")) ?? "" };
          }),
        );
      } catch (error) {
        throw unavailable("list checkpoints", error);
      }
    },
    async put(name, text) {
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${name}`, Body: text }));
      } catch (error) {
        throw unavailable("write a checkpoint", error);
      }
    },
  };
}
