import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { describeS3Error } from "../platform/s3-client";

/**
 * A content-hashed name (`catalog.<hex>.json`, `catalog.<hex>.json.gz`): its content never changes,
 * so it is uploaded once. Eight hex digits at least, between dots, as the edge's cache rule reads them.
 */
export function isContentHashed(name: string): boolean {
  return /\.[0-9a-f]{8}[^/]*\.[^/]+$/.test(name);
}

/** What one pass did: the names it uploaded, and each it could not with why. */
export interface PassResult {
  uploaded: string[];
  failed: Array<{ name: string; error: string }>;
}

/** Where the publisher reads and writes. */
export interface PublishTarget {
  s3: S3Client;
  bucket: string;
  /** The folder the catalog publisher (the API) writes. */
  dir: string;
}

/**
 * One pass: every file of `dir` into the bucket under its own name — a content-hashed one only
 * when `done` does not have it yet (it is added once uploaded), any other (the manifest) every
 * time, so the bucket follows its changes. Dot-files are the publisher's half-written temporaries.
 * A file that fails is reported and tried again next pass; the others still go.
 */
export async function publishPass(target: PublishTarget, done: Set<string>): Promise<PassResult> {
  const result: PassResult = { uploaded: [], failed: [] };
  const entries = await fs.readdir(target.dir, { withFileTypes: true });
  // Content-hashed files first, so a manifest uploaded in the same pass never names a missing one.
  const names = entries
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort((a, b) => Number(isContentHashed(b)) - Number(isContentHashed(a)) || a.localeCompare(b));
  for (const name of names) {
    const hashed = isContentHashed(name);
    if (hashed && done.has(name)) continue;
    try {
      const body = createReadStream(path.join(target.dir, name));
      await new Upload({ client: target.s3, params: { Bucket: target.bucket, Key: name, Body: body } }).done();
      if (hashed) done.add(name);
      result.uploaded.push(name);
    } catch (err) {
      result.failed.push({ name, error: describeS3Error(err) });
    }
  }
  return result;
}
