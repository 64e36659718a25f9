import { insertUsers as insertLoadUsers, type LoadUser } from "../../scripts/load/fixtures";
import { loadTarget } from "../../scripts/load/target";
import { testLayout, testTopology } from "../stack/test-stack";

/** A user inserted straight into MySQL, with a token signed by the stack's real key. */
export type DirectUser = LoadUser;

/**
 * Insert `n` users (and their profile rows) in one statement and mint their tokens: storms need
 * hundreds of users, and signing up through the API would cost a scrypt hash each. The API verifies
 * the tokens for real. The same fixture the bench and chaos runs use.
 */
export function insertUsers(n: number, prefix = "direct"): Promise<DirectUser[]> {
  return insertLoadUsers(loadTarget(testTopology(), testLayout().root), n, prefix);
}
