import { Cluster } from "ioredis";
import type { RowDataPacket } from "mysql2";
import { parseServiceEnv, serviceEnv } from "../../infra/topology";
import { readState } from "../../infra/targets/local/state";
import { packetKeys } from "../../services/src/modules/red-packets/keys";
import { PacketStore } from "../../services/src/modules/red-packets/packet-store";
import { Database } from "../../services/src/platform/db";
import { ReadYourWrites } from "../../services/src/platform/read-your-writes";
import { RedisBreaker } from "../../services/src/platform/redis-breaker";
import { call, replicaBase, type Answer } from "../support/api";
import { onPrimary } from "../support/db";
import { eventually } from "../stack/clients";
import { testAddresses, testLayout, testTopology } from "../stack/test-stack";
import { insertUsers, type DirectUser } from "../support/users";
import { at, first, type Counted } from "../support/checked";
import { bounded } from "../../scripts/load/bounded";
import { topUp, type CreatedPacket } from "../../scripts/load/fixtures";
import { localLoadTarget } from "../../scripts/load/target";
import { parsePacketRef } from "../../services/src/modules/red-packets/packet-ref";
import { randomUUID } from "node:crypto";

export { bounded };

/** A user inserted straight into MySQL, with a token signed by the stack's real key (no scrypt cost). */
export type Grabber = DirectUser;

/** Insert `n` users in one statement and mint their tokens. */
export function buildGrabbers<N extends number>(n: N): Promise<Counted<Grabber, N>> {
  return insertUsers(n, "rp");
}

/** Credit `user` with `amountCents` through the admin top-up route; returns the balance after it. */
export function fund(user: Grabber, amountCents: number): Promise<number> {
  return topUp(localLoadTarget(testLayout().root), user.id, amountCents);
}

/** Fund `creator` with the packet's amount, then create the packet as them: its ref and numeric id. */
export async function buildPacket(
  creator: Grabber,
  body: { amountCents: number; count: number; expiresInSeconds: number },
): Promise<CreatedPacket> {
  await fund(creator, body.amountCents);
  const res = await call<{ id: string }>("POST", "/red-packets", {
    token: creator.token,
    body,
    headers: { "idempotency-key": randomUUID() },
  });
  if (res.status !== 201) throw new Error(`create red packet failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: parsePacketRef(res.body.id)!.id, ref: res.body.id };
}

/** One grab of the packet named `ref` straight to a replica (i % replicas) with its own client address. */
export function grab(
  ref: string,
  user: Grabber,
  i = 0,
): Promise<Answer<{ amountCents?: number; error?: string; details?: { amountCents?: number } }>> {
  return call("POST", `/red-packets/${ref}/grabs`, {
    token: user.token,
    headers: { "x-forwarded-for": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    base: replicaBase(i % testAddresses().api.length),
  });
}

/** MySQL's view of a packet: its row, its grabs, and balances of the given users. */
export async function mysqlPacket(packetId: number, userIds: number[] = []) {
  return onPrimary(async (conn) => {
    const [packets] = await conn.query<RowDataPacket[]>(
      "SELECT amount_cents, remaining_count, remaining_cents, refunded_at FROM red_packets WHERE id = ?",
      [packetId],
    );
    const packet = first(packets, `red packet ${packetId}`);
    const [grabs] = await conn.query<RowDataPacket[]>(
      "SELECT user_id, amount_cents FROM red_packet_grabs WHERE packet_id = ? ORDER BY id",
      [packetId],
    );
    const [balances] = userIds.length
      ? await conn.query<RowDataPacket[]>("SELECT id, balance_cents FROM users WHERE id IN (?)", [userIds])
      : [[] as RowDataPacket[]];
    return {
      amountCents: Number(packet.amount_cents),
      remainingCount: Number(packet.remaining_count),
      remainingCents: Number(packet.remaining_cents),
      refunded: packet.refunded_at !== null,
      grabs: grabs.map((g) => ({ userId: Number(g.user_id), amountCents: Number(g.amount_cents) })),
      balances: new Map(balances.map((b) => [Number(b.id), Number(b.balance_cents)])),
    };
  });
}

/** A Redis Cluster client and a Database as the app user, like a worker's (close with `close`). */
export function appClients() {
  const t = testTopology();
  const addrs = testAddresses();
  const redis = new Cluster(addrs.redis, { redisOptions: { username: "app", password: t.redis.users.app.password } });
  const config = parseServiceEnv(
    serviceEnv(t, addrs, { id: "rp-test", host: "127.0.0.1", port: 1 }, { staticDir: "/tmp", staticBaseUrl: "/s/" }),
  );
  const db = new Database(config, new ReadYourWrites(redis, new RedisBreaker()), 4);
  return {
    redis,
    db,
    store: new PacketStore(redis),
    async close() {
      await db.close();
      redis.disconnect();
    },
  };
}

/** Wait until a packet's queue and processing lists are empty (every admitted grab committed). */
export async function drained(redis: Cluster, packetId: number, timeoutMs = 30_000): Promise<void> {
  const k = packetKeys(packetId);
  await eventually(
    async () => ((await redis.llen(k.queue)) + (await redis.llen(k.processing)) === 0 ? true : undefined),
    timeoutMs,
    100,
  );
}

/** The pid of a test-stack process by name (from the stack's state file). */
export const stackPid = (name: string) =>
  readState(testLayout().stateFile)!.processes.find((p) => p.name === name)!.pid;

/** A red-packet worker's counter of grabs by outcome (its own /metrics), or null while it is not answering. */
export async function workerOutcomes(index: number, outcome: string): Promise<number | null> {
  const { port } = at(testAddresses().workers.redPacketGrabs, index, "the red-packet grab worker");
  const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
  if (!res || res.status !== 200) return null;
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith("floodgate_worker_messages_total{") && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}
