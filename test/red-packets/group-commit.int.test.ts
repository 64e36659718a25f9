import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { GRAB } from "../../services/src/modules/red-packets/scripts";
import { parsePacketRef } from "../../services/src/modules/red-packets/packet-ref";
import { redisAdmin } from "../../infra/targets/local/components/redis";
import { masterOfKey } from "../support/redis";
import { testAddresses, testTopology } from "../stack/test-stack";
import { appClients, buildGrabbers, buildPacket, drained, mysqlPacket } from "./support";
import { at, first, zip } from "../support/checked";

const clients = appClients();
afterAll(() => clients.close());

/** Run a Redis command on the master of `key`. */
async function onMasterOf(key: string, command: string[]): Promise<void> {
  const node = await masterOfKey(key);
  const address = at(testAddresses().redis, Number(node.split("-")[1]) - 1, `the address of ${node}`);
  await redisAdmin({ topology: testTopology() }, address, command);
}

describe("red-packet grabs, group-committed", () => {
  it.each([
    ["the scripts cached on the master", false, 1],
    ["a master that knows no script (each grab runs again by body, after one more WAIT)", true, 2],
  ])(
    "sends the grabs of one turn as one pipeline with one WAIT, with %s, and each gets its own answer",
    async (_what, flush, pipelines) => {
      const [creator, ...grabbers] = await buildGrabbers(101);
      const amount = 30_000;
      const { id, ref } = await buildPacket(creator, { amountCents: amount, count: 30, expiresInSeconds: 120 });
      // Either the master knows the grab script, or (as a promoted replica) no script at all.
      await onMasterOf(packetKeys(id).meta, flush ? ["SCRIPT", "FLUSH"] : ["SCRIPT", "LOAD", GRAB]);

      const sent = jest.spyOn(clients.redis, "pipeline");
      let answers;
      try {
        answers = await Promise.all(
          grabbers.map((g) => clients.store.grab(id, parsePacketRef(ref)!.token, g.id, Date.now())),
        );
        expect(sent).toHaveBeenCalledTimes(pipelines);
      } finally {
        sent.mockRestore();
      }

      const won = zip(grabbers, answers).flatMap(([g, a]) =>
        a.outcome === "ok" ? [{ userId: g.id, amountCents: a.amountCents }] : [],
      );
      expect(won).toHaveLength(30);
      expect(answers.filter((a) => a.outcome === "empty")).toHaveLength(70);
      expect(won.reduce((sum, w) => sum + w.amountCents, 0)).toBe(amount);

      // A second grab by a winner, in its own turn, is told the same amount.
      const winner = first(won, "a winner");
      expect(await clients.store.grab(id, parsePacketRef(ref)!.token, winner.userId, Date.now())).toEqual({
        outcome: "already",
        amountCents: winner.amountCents,
      });

      await drained(clients.redis, id);
      const db = await mysqlPacket(
        id,
        won.map((w) => w.userId),
      );
      const byUser = (x: { userId: number }, y: { userId: number }) => x.userId - y.userId;
      expect(db.grabs.sort(byUser)).toEqual(won.sort(byUser));
      expect(db).toMatchObject({ remainingCount: 0, remainingCents: 0 });
    },
  );
});
