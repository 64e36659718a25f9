import { z } from "zod";

/** Registry marking which topology fields are secrets (passwords, keys). */
export const secretFields = z.registry<{ secret: true }>();

/** A secret string: required, non-empty (or at least `minLength`), never logged; marked so targets treat it as a secret. */
export function secret(minLength = 1) {
  const schema = z
    .string({ error: "a secret is required" })
    .min(1, { error: "a secret must not be empty" })
    .min(minLength, { error: `a secret of at least ${minLength} characters is required` });
  secretFields.add(schema, { secret: true });
  return schema;
}

/** True when the schema node was built by `secret()`. */
export function isSecretSchema(schema: z.ZodType): boolean {
  return secretFields.has(schema);
}
