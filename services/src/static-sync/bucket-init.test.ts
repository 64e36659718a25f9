import { execFile } from "node:child_process";
import path from "node:path";
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { freePort } from "../platform/ports";
import { createS3Client } from "../platform/s3-client";
import { ensureBucket, waitForS3 } from "./bucket-init";
import { startTestS3, type TestS3 } from "./s3rver.fixture";

// Against a real S3 API (s3rver). s3rver checks the access key id, not the SigV4 signature, so the
// secret key here is any distinctive value: it must never reach the program's output.
const SECRET = "bucket-init-secret-5d2e8a71";

let server: TestS3;
beforeAll(async () => {
  server = await startTestS3();
});
afterAll(() => server.close());

async function bucketNames(): Promise<string[]> {
  const { Buckets } = await server.s3.send(new ListBucketsCommand({}));
  return (Buckets ?? []).map((b) => b.Name ?? "");
}

/** Run the entry point as the container runs it (here through tsx), with `env` only. */
function runBucketInit(env: Record<string, string>) {
  const entry = path.resolve(__dirname, "..", "main", "bucket-init.ts");
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", entry],
      { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, output: stdout + stderr }),
    );
  });
}

describe("ensureBucket", () => {
  it("creates a missing bucket, and finds it there on the next run", async () => {
    expect(await ensureBucket(server.s3, "fg-init-a")).toBe("created");
    expect(await ensureBucket(server.s3, "fg-init-a")).toBe("existed");
    expect(await bucketNames()).toContain("fg-init-a");
  });

  it("names the bucket when the server refuses to create it", async () => {
    await expect(ensureBucket(server.s3, "Not_A_Bucket")).rejects.toThrow(/^creating bucket Not_A_Bucket: /);
  });
});

describe("waitForS3", () => {
  it("waits for an S3 API that starts late", async () => {
    const port = await freePort();
    const late = new S3rver({ address: "127.0.0.1", port, silent: true, directory: server.tmp("fg-late-") });
    const starting = new Promise((r) => setTimeout(r, 1500)).then(() => late.run());
    const s3 = createS3Client({ ...server.endpoint, endpoint: `http://127.0.0.1:${port}` });
    const started = Date.now();

    await waitForS3(s3, 20_000, 200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await starting;
    s3.destroy();
    await late.close();
  });

  it("gives up after its bound, with the last error, when nothing answers", async () => {
    const s3 = createS3Client({ ...server.endpoint, endpoint: `http://127.0.0.1:${await freePort()}` });
    const started = Date.now();

    await expect(waitForS3(s3, 1500, 200)).rejects.toThrow(
      /^the S3 API did not answer within 1\.5 s; last: .*ECONNREFUSED/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    s3.destroy();
  });

  it("fails at once when the URL is not an S3 API's root (s3rver reads it as a missing bucket's)", async () => {
    const s3 = createS3Client({ ...server.endpoint, endpoint: `${server.endpoint.endpoint}/not-a-bucket` });
    const started = Date.now();

    await expect(waitForS3(s3, 60_000)).rejects.toThrow(
      /^the S3 API refused to list buckets: NoSuchBucket \(HTTP 404\)/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    s3.destroy();
  });

  it("fails at once when the server refuses the access key", async () => {
    const s3 = createS3Client({ ...server.endpoint, accessKeyId: "NOT-A-KEY" });
    const started = Date.now();

    await expect(waitForS3(s3, 60_000)).rejects.toThrow(
      /^the S3 API refused to list buckets: InvalidAccessKeyId \(HTTP 403\)/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    s3.destroy();
  });
});

describe("the bucket-init program", () => {
  const env = () => ({
    S3_ENDPOINT: server.endpoint.endpoint,
    S3_ACCESS_KEY: server.endpoint.accessKeyId,
    S3_SECRET_KEY: SECRET,
    S3_BUCKETS: "fg-prog-static,fg-prog-backups",
  });

  it("creates every bucket, exits 0, and does it again harmlessly", async () => {
    const first = await runBucketInit(env());
    const second = await runBucketInit(env());

    expect([first.code, second.code]).toEqual([0, 0]);
    expect(await bucketNames()).toEqual(expect.arrayContaining(["fg-prog-static", "fg-prog-backups"]));
    const outcomes = (output: string) =>
      output
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { bucket: string; outcome: string })
        .map((l) => `${l.bucket} ${l.outcome}`);
    expect(outcomes(first.output)).toEqual(["fg-prog-static created", "fg-prog-backups created"]);
    expect(outcomes(second.output)).toEqual(["fg-prog-static existed", "fg-prog-backups existed"]);
    expect(first.output + second.output).not.toContain(SECRET);
  }, 60_000);

  it("exits 1 with the reason when the S3 API never answers within BUCKET_INIT_WAIT_SECONDS", async () => {
    const run = await runBucketInit({
      ...env(),
      S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      BUCKET_INIT_WAIT_SECONDS: "1",
    });

    expect(run.code).toBe(1);
    expect(run.output).toContain("bucket-init failed: the S3 API did not answer within 1 s");
    expect(run.output).not.toContain(SECRET);
  }, 30_000);

  it("exits 78 naming a bad variable, the keys never shown", async () => {
    const run = await runBucketInit({ ...env(), S3_BUCKETS: "Bad_Name", S3_ACCESS_KEY: "" });

    expect(run.code).toBe(78);
    expect(run.output).toContain('S3_BUCKETS = "Bad_Name": an S3 bucket name');
    expect(run.output).toContain("S3_ACCESS_KEY = (hidden)");
    expect(run.output).not.toContain(SECRET);
  }, 30_000);
});
