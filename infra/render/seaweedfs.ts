/** The S3 actions the deployment's identity has on every bucket. */
export const S3_IDENTITY_ACTIONS = ["Read", "List", "Write", "Tagging"] as const;

/**
 * SeaweedFS's S3 identities file (`weed server -s3 -s3.config=<file>`): one identity, "floodgate",
 * with the deployment's keys. SeaweedFS asks for Admin to create a bucket, so `adminBuckets` gets
 * `Admin:<bucket>` — admin on those buckets alone — for a target that creates them over S3.
 * It holds the secret key: render it inside a secret Output only.
 */
export function renderS3Identities(keys: { accessKey: string; secretKey: string }, adminBuckets: string[] = []) {
  const identity = {
    name: "floodgate",
    credentials: [{ accessKey: keys.accessKey, secretKey: keys.secretKey }],
    actions: [...S3_IDENTITY_ACTIONS, ...adminBuckets.map((b) => `Admin:${b}`)],
  };
  return JSON.stringify({ identities: [identity] });
}
