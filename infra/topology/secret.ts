import { z } from "zod";

/** Registry marking which topology fields are secrets (passwords, keys). */
export const secretFields = z.registry<{ secret: true }>();

/** A secret string: required, non-empty, never logged; marked so targets can treat it as a secret. */
export function secret() {
  const schema = z.string({ error: "a secret is required" }).min(1, { error: "a secret must not be empty" });
  secretFields.add(schema, { secret: true });
  return schema;
}

/** True when the schema node was built by `secret()`. */
export function isSecretSchema(schema: z.ZodType): boolean {
  return secretFields.has(schema);
}
