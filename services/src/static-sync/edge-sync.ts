import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import { describeS3Error } from "../platform/s3-client";

/**
 * A key the mirror may write as a file of its folder: one path segment, not hidden (the mirror's
 * own temporaries are dot-files, and the publisher never uploads one), short enough that its
 * temporary name fits a file name's 255 bytes.
 */
export function isMirrorable(key: string): boolean {
  return key.length > 0 && Buffer.byteLength(key) <= 200 && !key.startsWith(".") && !/[/\\\0]/.test(key);
}

/** What one pass did. */
export interface MirrorResult {
  downloaded: string[];
  deleted: string[];
  /** Keys the folder cannot hold as a file of its own (nested or hidden names): left out. */
  skipped: string[];
  failed: Array<{ name: string; error: string }>;
}

/** The bucket and the folder that mirrors it. */
export interface MirrorTarget {
  s3: S3Client;
  bucket: string;
  /** The folder nginx serves. */
  dir: string;
}

/**
 * One pass: list the bucket; download each object that is new, or whose ETag differs from the one
 * `known` holds for it, or whose file is gone; delete each file the bucket no longer has. A
 * download lands under a temporary dot-name and is renamed into place, so nginx never serves half
 * a file. When the listing fails the pass rejects before it touches the folder.
 */
export async function mirrorPass(target: MirrorTarget, known: Map<string, string>): Promise<MirrorResult> {
  const result: MirrorResult = { downloaded: [], deleted: [], skipped: [], failed: [] };
  const remote = new Map<string, string>();
  for await (const page of paginateListObjectsV2({ client: target.s3 }, { Bucket: target.bucket }))
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      if (isMirrorable(o.Key)) remote.set(o.Key, o.ETag ?? "");
      else result.skipped.push(o.Key);
    }
  const entries = await fs.readdir(target.dir, { withFileTypes: true });
  const local = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  for (const [key, etag] of remote) {
    if (local.has(key) && known.get(key) === etag) continue;
    try {
      await download(target, key);
      known.set(key, etag);
      result.downloaded.push(key);
    } catch (err) {
      known.delete(key);
      result.failed.push({ name: key, error: describeS3Error(err) });
    }
  }
  // Regular files and links only: the mirror never made a folder, so it removes none.
  for (const e of entries.filter((x) => (x.isFile() || x.isSymbolicLink()) && !remote.has(x.name))) {
    await fs.rm(path.join(target.dir, e.name), { force: true });
    known.delete(e.name);
    result.deleted.push(e.name);
  }
  return result;
}

async function download(target: MirrorTarget, key: string): Promise<void> {
  const temp = path.join(target.dir, `.${key}.tmp-${randomBytes(6).toString("hex")}`);
  try {
    const res = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    // 0644: nginx reads the files as another user.
    await pipeline(res.Body as Readable, createWriteStream(temp, { mode: 0o644 }));
    await fs.rename(temp, path.join(target.dir, key));
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}
