import fs from "node:fs";
import path from "node:path";
import { CreateBucketCommand, GetObjectCommand, paginateListObjectsV2 } from "@aws-sdk/client-s3";
import { first } from "../../../test/support/checked";
import { isContentHashed, publishPass, type PublishTarget } from "./publisher";
import { startTestS3, type TestS3 } from "./s3rver.fixture";

// The publisher's passes against a real S3 API (s3rver): what the catalog publisher (the API)
// wrote to its folder reaches the bucket, content-hashed files once, the manifest every pass.

let server: TestS3;
let buckets = 0;
beforeAll(async () => {
  server = await startTestS3();
});
afterAll(() => server.close());

/** A publish folder and a bucket of their own; `createBucket: false` leaves the bucket missing. */
async function buildTarget({ createBucket = true } = {}): Promise<PublishTarget> {
  const bucket = `fg-publish-${++buckets}`;
  if (createBucket) await server.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { s3: server.s3, bucket, dir: server.tmp("fg-publish-") };
}

const write = (t: PublishTarget, name: string, body: string) => fs.writeFileSync(path.join(t.dir, name), body);

async function objects(t: PublishTarget): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const page of paginateListObjectsV2({ client: t.s3 }, { Bucket: t.bucket }))
    for (const o of page.Contents ?? []) {
      const res = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: o.Key }));
      out[o.Key!] = await res.Body!.transformToString();
    }
  return out;
}

describe("isContentHashed", () => {
  it.each([
    ["catalog.0123456789abcdef.json", true],
    ["catalog.0123456789abcdef.json.gz", true],
    ["app.deadbeef.js", true],
    ["manifest.json", false],
    ["catalog.0123456.json", false], // seven hex digits
    ["catalog.DEADBEEF.json", false], // the publisher writes lower case
    ["catalog.deadbeef", false], // no extension after the hash
  ])("%s → %s", (name, hashed) => {
    expect(isContentHashed(name)).toBe(hashed);
  });
});

describe("publishPass", () => {
  it("uploads every file but the dot-files, content-hashed ones before the manifest", async () => {
    const t = await buildTarget();
    write(t, "manifest.json", '{"version":"0123456789abcdef"}');
    write(t, "catalog.0123456789abcdef.json", "[1]");
    write(t, "catalog.0123456789abcdef.json.gz", "gz");
    write(t, ".manifest.json.tmp-3f2a", "half");
    fs.mkdirSync(path.join(t.dir, "sub"));

    const pass = await publishPass(t, new Set());

    expect(pass).toEqual({
      uploaded: ["catalog.0123456789abcdef.json", "catalog.0123456789abcdef.json.gz", "manifest.json"],
      failed: [],
    });
    expect(await objects(t)).toEqual({
      "catalog.0123456789abcdef.json": "[1]",
      "catalog.0123456789abcdef.json.gz": "gz",
      "manifest.json": '{"version":"0123456789abcdef"}',
    });
  });

  it("uploads a content-hashed file once and the manifest on every pass, so a new manifest follows", async () => {
    const t = await buildTarget();
    const done = new Set<string>();
    write(t, "catalog.0123456789abcdef.json", "[1]");
    write(t, "manifest.json", '{"version":"0123456789abcdef"}');
    await publishPass(t, done);

    write(t, "catalog.fedcba9876543210.json", "[2]");
    write(t, "manifest.json", '{"version":"fedcba9876543210"}');
    const second = await publishPass(t, done);
    const third = await publishPass(t, done);

    expect(second.uploaded).toEqual(["catalog.fedcba9876543210.json", "manifest.json"]);
    expect(third.uploaded).toEqual(["manifest.json"]);
    expect((await objects(t))["manifest.json"]).toBe('{"version":"fedcba9876543210"}');
  });

  it("reports each file S3 refused and uploads it on a later pass once S3 takes it", async () => {
    const t = await buildTarget({ createBucket: false });
    const done = new Set<string>();
    write(t, "catalog.0123456789abcdef.json", "[1]");
    write(t, "manifest.json", "{}");

    const refused = await publishPass(t, done);
    await t.s3.send(new CreateBucketCommand({ Bucket: t.bucket }));
    const later = await publishPass(t, done);

    expect(refused.uploaded).toEqual([]);
    expect(refused.failed.map((f) => f.name)).toEqual(["catalog.0123456789abcdef.json", "manifest.json"]);
    expect(first(refused.failed, "the refused catalog").error).toMatch(/^NoSuchBucket \(HTTP 404\): /);
    expect(later).toEqual({ uploaded: ["catalog.0123456789abcdef.json", "manifest.json"], failed: [] });
  });

  it("rejects when the publish folder is missing, uploading nothing", async () => {
    const t = await buildTarget();

    await expect(publishPass({ ...t, dir: path.join(t.dir, "missing") }, new Set())).rejects.toThrow(/ENOENT/);
    expect(await objects(t)).toEqual({});
  });
});
