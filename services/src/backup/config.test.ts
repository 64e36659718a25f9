import os from "node:os";
import { parseBackupEnv } from "./config";

/** The variables every target sets, without a store. */
const buildEnv = (change: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  HTTP_PORT: "8096",
  BACKUP_SCHEDULE: "15 */6 * * *",
  BACKUP_RETENTION_DAYS: "7",
  BACKUP_KEEP_LAST: "8",
  BACKUP_MYSQL_SOURCE: "127.0.0.1:13307",
  MYSQL_DATABASE: "floodgate",
  BACKUP_MYSQL_USER: "floodgate_backup",
  BACKUP_MYSQL_PASSWORD: "secret",
  BACKUP_REDIS_NODES: "127.0.0.1:17001,127.0.0.1:17002",
  BACKUP_REDIS_USER: "admin",
  BACKUP_REDIS_PASSWORD: "secret",
  ...change,
});
const S3 = {
  S3_ENDPOINT: "http://bucket:8333",
  S3_BUCKET: "floodgate-backups",
  S3_ACCESS_KEY: "AKIA-the-access-key",
  S3_SECRET_KEY: "the-secret-key",
};

describe("parseBackupEnv", () => {
  it("reads the variables the Pulumi programs set", () => {
    expect(parseBackupEnv(buildEnv(S3))).toMatchObject({
      HTTP_PORT: 8096,
      BACKUP_REDIS_NODES: ["127.0.0.1:17001", "127.0.0.1:17002"],
    });
  });

  it("keeps backups in BACKUP_DIR when it is set, whatever the S3 variables say", () => {
    expect(parseBackupEnv(buildEnv({ ...S3, BACKUP_DIR: "/tmp/b" })).store).toEqual({
      type: "directory",
      dir: "/tmp/b",
    });
  });

  it("keeps backups in the bucket over S3 with all four S3 variables, in us-east-1 unless S3_REGION says", () => {
    const config = parseBackupEnv(buildEnv(S3));
    expect(config.store).toEqual({
      type: "s3",
      endpoint: "http://bucket:8333",
      bucket: "floodgate-backups",
      region: "us-east-1",
      accessKeyId: "AKIA-the-access-key",
      secretAccessKey: "the-secret-key",
    });
    expect(config.BACKUP_WORK_DIR).toBe(os.tmpdir());
    expect(parseBackupEnv(buildEnv({ ...S3, S3_REGION: "garage" })).store).toMatchObject({ region: "garage" });
  });

  it.each([
    [{ BACKUP_SCHEDULE: "hourly" }, /BACKUP_SCHEDULE = "hourly": a five-field cron expression/],
    [{ BACKUP_MYSQL_SOURCE: "replica" }, /BACKUP_MYSQL_SOURCE = "replica": host:port/],
    [{ BACKUP_MYSQL_PASSWORD: "" }, /BACKUP_MYSQL_PASSWORD = \(hidden\)/],
    [{ S3_ENDPOINT: "bucket:8333" }, /S3_ENDPOINT = "bucket:8333": an http\(s\) URL/],
    [{ S3_BUCKET: "Floodgate_Backups" }, /S3_BUCKET = "Floodgate_Backups": an S3 bucket name/],
    [{ S3_SECRET_KEY: "" }, /S3_SECRET_KEY = \(hidden\)/],
  ])("names the variable and value of a bad setting: %j", (change, message) => {
    expect(() => parseBackupEnv(buildEnv({ ...S3, ...change }))).toThrow(message);
  });

  it("names every variable of both stores when neither is set", () => {
    expect(() => parseBackupEnv(buildEnv())).toThrow(
      [
        "backup configuration:",
        ...["BACKUP_DIR", "S3_ENDPOINT", "S3_BUCKET", "S3_ACCESS_KEY", "S3_SECRET_KEY"].map(
          (k) =>
            `  ${k} = (unset): set BACKUP_DIR (a directory) or all of S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY (the backups bucket)`,
        ),
      ].join("\n"),
    );
  });

  it("names each missing S3 variable when only some are set, and never shows a key", () => {
    const env = buildEnv({ S3_ENDPOINT: S3.S3_ENDPOINT, S3_ACCESS_KEY: S3.S3_ACCESS_KEY });
    const given = 'given: S3_ENDPOINT = "http://bucket:8333", S3_ACCESS_KEY = (hidden)';
    let message = "";
    try {
      parseBackupEnv(env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      [
        "backup configuration:",
        `  S3_BUCKET = (unset): required for the S3 store (${given})`,
        `  S3_SECRET_KEY = (unset): required for the S3 store (${given})`,
      ].join("\n"),
    );
    expect(message).not.toContain(S3.S3_ACCESS_KEY);
  });
});
