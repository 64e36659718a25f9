import fs from "node:fs";
import path from "node:path";
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { isMirrorable, mirrorPass, type MirrorTarget } from "./edge-sync";
import { startTestS3, type TestS3 } from "./s3rver.fixture";

// The edge's mirror against a real S3 API (s3rver): the folder nginx serves follows the bucket.

let server: TestS3;
let buckets = 0;
beforeAll(async () => {
  server = await startTestS3();
});
afterAll(() => server.close());

/** An edge folder and a bucket of their own. */
async function buildTarget(): Promise<MirrorTarget> {
  const bucket = `fg-edge-${++buckets}`;
  await server.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { s3: server.s3, bucket, dir: server.tmp("fg-edge-") };
}

const put = (t: MirrorTarget, Key: string, Body: string) =>
  t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key, Body }));
const remove = (t: MirrorTarget, Key: string) => t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key }));

/** Every file of the folder with its content, dot-files included. */
function files(t: MirrorTarget): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(t.dir)
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(t.dir, f), "utf8")]),
  );
}

describe("isMirrorable", () => {
  it.each([
    ["a flat name", "manifest.json", true],
    ["a content-hashed name", "catalog.0123456789abcdef.json.gz", true],
    ["a nested key", "nested/catalog.json", false],
    ["the parent folder", "..", false],
    ["a hidden name (the mirror's temporaries)", ".hidden", false],
    ["a backslash", "back\\slash", false],
    ["a name too long for its temporary", "x".repeat(201), false],
  ])("%s", (_, key, ok) => {
    expect(isMirrorable(key)).toBe(ok);
  });
});

describe("mirrorPass", () => {
  it("mirrors added, changed and deleted objects, downloading only what changed", async () => {
    const t = await buildTarget();
    const known = new Map<string, string>();
    await put(t, "catalog.0123456789abcdef.json", "[1]");
    await put(t, "manifest.json", "v1");
    const added = await mirrorPass(t, known);

    await put(t, "manifest.json", "v2");
    const changed = await mirrorPass(t, known);
    await remove(t, "catalog.0123456789abcdef.json");
    const deleted = await mirrorPass(t, known);

    expect(added.downloaded.sort()).toEqual(["catalog.0123456789abcdef.json", "manifest.json"]);
    expect([changed.downloaded, changed.deleted]).toEqual([["manifest.json"], []]);
    expect([deleted.downloaded, deleted.deleted]).toEqual([[], ["catalog.0123456789abcdef.json"]]);
    expect(files(t)).toEqual({ "manifest.json": "v2" });
    expect(fs.statSync(path.join(t.dir, "manifest.json")).mode & 0o777).toBe(0o644);
  });

  it("downloads again a file that went missing from the folder", async () => {
    const t = await buildTarget();
    const known = new Map<string, string>();
    await put(t, "manifest.json", "v1");
    await mirrorPass(t, known);
    fs.rmSync(path.join(t.dir, "manifest.json"));

    expect((await mirrorPass(t, known)).downloaded).toEqual(["manifest.json"]);
    expect(files(t)).toEqual({ "manifest.json": "v1" });
  });

  it("downloads everything once after a restart (nothing known), and removes a stale temporary", async () => {
    const t = await buildTarget();
    await put(t, "manifest.json", "v1");
    fs.writeFileSync(path.join(t.dir, "manifest.json"), "v0");
    fs.writeFileSync(path.join(t.dir, ".manifest.json.tmp-0badc0ffee00"), "half");

    const pass = await mirrorPass(t, new Map());

    expect(pass).toMatchObject({ downloaded: ["manifest.json"], deleted: [".manifest.json.tmp-0badc0ffee00"] });
    expect(files(t)).toEqual({ "manifest.json": "v1" });
  });

  it("leaves out keys the folder cannot hold as its own files, writing nothing outside it", async () => {
    const t = await buildTarget();
    await put(t, "nested/catalog.json", "n");
    await put(t, ".hidden", "h");
    await put(t, "manifest.json", "v1");
    fs.mkdirSync(path.join(t.dir, "kept-folder"));

    const pass = await mirrorPass(t, new Map());

    expect(pass).toEqual({
      downloaded: ["manifest.json"],
      deleted: [],
      skipped: [".hidden", "nested/catalog.json"],
      failed: [],
    });
    expect(fs.readdirSync(t.dir).sort()).toEqual(["kept-folder", "manifest.json"]);
    expect(fs.readdirSync(path.dirname(t.dir)).filter((f) => f === "catalog.json")).toEqual([]);
  });

  it("rejects when the bucket cannot be listed, leaving the folder as it was", async () => {
    const t = await buildTarget();
    fs.writeFileSync(path.join(t.dir, "manifest.json"), "served");

    await expect(mirrorPass({ ...t, bucket: "fg-edge-missing" }, new Map())).rejects.toThrow(
      "The specified bucket does not exist",
    );
    expect(files(t)).toEqual({ "manifest.json": "served" });
  });
});
