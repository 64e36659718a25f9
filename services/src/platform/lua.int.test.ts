import { createHash } from "node:crypto";
import { Cluster } from "ioredis";
import { redisAdmin } from "../../../infra/targets/local/components/redis";
import { at } from "../../../test/support/checked";
import { masterOfKey } from "../../../test/support/redis";
import { testAddresses, testTopology } from "../../../test/stack/test-stack";
import { evalScript } from "./lua";

/** Whether the node serving `key` has the script cached (SCRIPT EXISTS). */
async function cached(key: string, script: string): Promise<boolean> {
  const node = await masterOfKey(key);
  const address = at(testAddresses().redis, Number(node.split("-")[1]) - 1, `the address of ${node}`);
  const sha = createHash("sha1").update(script).digest("hex");
  return (await redisAdmin({ topology: testTopology() }, address, ["SCRIPT", "EXISTS", sha])).trim() === "1";
}

describe("evalScript", () => {
  const redis = new Cluster(testAddresses().redis, {
    redisOptions: { username: "app", password: testTopology().redis.users.app.password },
  });
  afterAll(() => redis.disconnect());

  it("sends the body once (after NOSCRIPT), then runs the script by its SHA1", async () => {
    // A script no node has seen (as after a failover to a replica that never ran it).
    const script = `return redis.call('INCRBY', KEYS[1], ARGV[1]) -- ${Date.now()}-${Math.random()}`;
    const key = `{lua-test}:${Date.now()}`;
    const evals = jest.spyOn(redis, "eval");
    const shas = jest.spyOn(redis, "evalsha");
    expect(await cached(key, script)).toBe(false);

    expect(await evalScript(redis, script, [key], [5])).toBe(5);
    expect(await evalScript(redis, script, [key], [2])).toBe(7);
    expect(await evalScript(redis, script, [key], [1])).toBe(8);

    expect(shas).toHaveBeenCalledTimes(3); // the first answered NOSCRIPT
    expect(evals).toHaveBeenCalledTimes(1);
    expect(await cached(key, script)).toBe(true);
  });

  it("passes a script's own error through", async () => {
    await expect(evalScript(redis, "return redis.error_reply('NOPE no')", ["{lua-test}:x"], [])).rejects.toThrow(
      /NOPE no/,
    );
  });
});
