import { createHash } from "node:crypto";
import type { Cluster } from "ioredis";

const shas = new Map<string, string>();
/** A script's SHA1, as EVALSHA wants it (computed once per script). */
export const shaOf = (script: string) => {
  let sha = shas.get(script);
  if (!sha) shas.set(script, (sha = createHash("sha1").update(script).digest("hex")));
  return sha;
};

/**
 * Run a Lua script by its SHA1 (EVALSHA), sending the body (EVAL, which also caches it) only when
 * the node answers NOSCRIPT — the first call, or a promoted replica after a failover. A storm sends
 * a few hundred bytes per call instead of the whole script, and Redis skips hashing it each time.
 */
export async function evalScript(
  redis: Cluster,
  script: string,
  keys: readonly string[],
  args: Array<string | number>,
): Promise<unknown> {
  const argv = args.map(String);
  try {
    return await redis.evalsha(shaOf(script), keys.length, ...keys, ...argv);
  } catch (err) {
    if (!(err as Error).message?.startsWith("NOSCRIPT")) throw err;
    return redis.eval(script, keys.length, ...keys, ...argv);
  }
}
