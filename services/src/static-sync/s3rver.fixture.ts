import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { createS3Client, type S3Endpoint } from "../platform/s3-client";

/** s3rver's built-in account: the only access key it accepts (it checks no SigV4 signature). */
export const S3RVER_KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** A real S3 API over HTTP (s3rver, on the local filesystem) on 127.0.0.1 and a free port. */
export interface TestS3 {
  endpoint: S3Endpoint;
  s3: S3Client;
  /** A fresh folder, removed by close(). */
  tmp: (prefix: string) => string;
  close: () => Promise<void>;
}

/** Start a TestS3; close() stops it and removes every folder it made. */
export async function startTestS3(): Promise<TestS3> {
  const dirs: string[] = [];
  const tmp = (prefix: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: tmp("fg-static-s3rver-") });
  const { port } = await server.run();
  const endpoint = { endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", ...S3RVER_KEYS };
  const s3 = createS3Client(endpoint);
  return {
    endpoint,
    s3,
    tmp,
    close: async () => {
      s3.destroy();
      await server.close();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
