import { parseBucketInitEnv, parseEdgeSyncEnv, parsePublisherEnv, s3EndpointOf } from "./config";

const S3 = {
  S3_ENDPOINT: "http://bucket:8333",
  S3_ACCESS_KEY: "the-access-key",
  S3_SECRET_KEY: "the-secret-key",
};

describe("the static-bucket programs' environments", () => {
  it("reads the buckets to create, waiting 180 s for the S3 API unless told", () => {
    const env = parseBucketInitEnv({ ...S3, S3_BUCKETS: "fg-static,fg-backups" });
    expect([env.S3_BUCKETS, env.BUCKET_INIT_WAIT_SECONDS]).toEqual([["fg-static", "fg-backups"], 180]);
    expect(s3EndpointOf(env)).toEqual({
      endpoint: "http://bucket:8333",
      region: "us-east-1",
      accessKeyId: "the-access-key",
      secretAccessKey: "the-secret-key",
    });
  });

  it("runs the sync loops every 2 s with the heartbeat in /tmp unless told", () => {
    const publisher = parsePublisherEnv({ ...S3, S3_BUCKET: "fg-static", STATIC_PUBLISH_DIR: "/var/lib/x" });
    const edge = parseEdgeSyncEnv({ ...S3, S3_BUCKET: "fg-static", STATIC_EDGE_DIR: "/srv/static" });
    expect([publisher.SYNC_INTERVAL_MS, publisher.HEARTBEAT_FILE]).toEqual([2000, "/tmp/heartbeat"]);
    expect([edge.STATIC_EDGE_DIR, edge.S3_BUCKET]).toEqual(["/srv/static", "fg-static"]);
  });

  it("names every bad variable with its value, the keys hidden", () => {
    const parse = () => parseEdgeSyncEnv({ S3_ENDPOINT: "bucket:8333", S3_SECRET_KEY: "", STATIC_EDGE_DIR: "srv" });
    expect(parse).toThrow(
      [
        "static-edge-sync configuration:",
        '  S3_ENDPOINT = "bucket:8333": an http(s) URL',
        "  S3_ACCESS_KEY = (unset): Invalid input: expected string, received undefined",
        "  S3_SECRET_KEY = (hidden): Too small: expected string to have >=1 characters",
        "  S3_BUCKET = (unset): Invalid input: expected string, received undefined",
        '  STATIC_EDGE_DIR = "srv": an absolute path',
      ].join("\n"),
    );
  });
});
