import { insertUsers as insertLoadUsers, type LoadUser } from "../../scripts/load/fixtures";
import { localLoadTarget } from "../../scripts/load/target";
import { testLayout } from "../stack/test-stack";
import { exactly, type Counted } from "./checked";

/** A user inserted straight into MySQL, with a token signed by the stack's real key. */
export type DirectUser = LoadUser;

/**
 * Insert `n` users (and their profile rows) in one statement and mint their tokens: storms need
 * hundreds of users, and signing up through the API would cost a scrypt hash each. The API verifies
 * the tokens for real. The same fixture the bench and chaos runs use. With a literal `n`, the users
 * destructure without checks (`const [alice, bob] = await insertUsers(2)`).
 */
export async function insertUsers<N extends number>(n: N, prefix = "direct"): Promise<Counted<DirectUser, N>> {
  return exactly(await insertLoadUsers(localLoadTarget(testLayout().root), n, prefix), n, "inserted users");
}
