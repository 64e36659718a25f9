/**
 * redis-cluster: check the Redis Cluster node by node (answers, cluster_state, every slot served,
 * every master with a linked replica); `--failover NODE` (e.g. redis-3) makes that master's replica
 * take over its slots on purpose (CLUSTER FAILOVER, the safe, coordinated kind); `--rejoin` starts a
 * node that is down (once the others serve every slot, so it comes back as a replica) and introduces
 * a node that knows no other (CLUSTER MEET).
 */
import { lookup } from "node:dns/promises";
import { spinner } from "zx";
import { hostPort } from "../infra/topology";
import { parseClusterInfo } from "../infra/targets";
import { healthyReplicas, isNode, myself, parseClusterNodes, type ClusterNode } from "./lib/cluster-nodes";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";
import { firstLine, redisCli, waitUntil } from "./lib/shell";
import { openStack } from "./lib/stack";

/** How long a failover may take before the runbook calls it failed (Redis's own default is a few seconds). */
const FAILOVER_TIMEOUT_MS = 30_000;

const endpoint = (n: ClusterNode) => n.hostname ?? `${n.ip}:${n.port}`;

const HELP = `usage: npm run runbook -- redis-cluster [--failover redis-N] [--rejoin] [options]

Checks every node of the stack's Redis Cluster. With --failover redis-N --apply, asks a replica
of that master to take over its slots (the master becomes a replica; no write is lost), found by
the name each node announces (or its address where it announces none), then checks that it is
master and the cluster ok within 30 s.
With --rejoin --apply, starts every node that is down — only once the other nodes serve all 16384
slots, so a former master comes back as a replica of its successor instead of with stale data — and
sends CLUSTER MEET to a node that knows no other.

${COMMON_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, {
    failover: { type: "string" },
    rejoin: { type: "boolean", default: false },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const stack = openStack(options);
  const book = new Runbook("redis-cluster", options);
  const nodes = stack.addresses.redis.map((address, i) => ({ name: `redis-${i + 1}`, address }));
  const ask = (n: (typeof nodes)[number], args: string[]) => redisCli(stack.topology, n.address, args);

  book.step(`asking ${nodes.length} nodes`);
  const survey = () =>
    Promise.all(
      nodes.map(async (n) => {
        try {
          const info = parseClusterInfo(await ask(n, ["CLUSTER", "INFO"]));
          const replication = await ask(n, ["INFO", "replication"]);
          return {
            ...n,
            up: true,
            info,
            role: /role:(\w+)/.exec(replication)?.[1],
            linked: /master_link_status:up/.test(replication),
          };
        } catch (err) {
          return { ...n, up: false, error: firstLine((err as Error).message) };
        }
      }),
    );
  let seen = await survey();
  const serves = (n: (typeof seen)[number]) => n.up && "info" in n && n.info!.cluster_state === "ok";
  if (values.rejoin) {
    const helper = seen.find(serves);
    let acted = false;
    for (const n of seen.filter((x) => !x.up)) {
      if (!helper) {
        book.check(`${n.name} can rejoin`, false, "no node serves every slot yet: wait for the failover");
        continue;
      }
      acted =
        (await book.act(`start ${n.name}`, async () => {
          await stack.control.start(n.name);
          await spinner(`waiting for ${n.name} to answer`, () =>
            waitUntil(n.name, async () => (await ask(n, ["PING"])).trim() === "PONG", { timeoutMs: 30_000 }),
          );
        })) || acted;
    }
    for (const n of seen.filter((x) => "info" in x && x.info!.cluster_known_nodes === "1")) {
      if (!helper) continue;
      acted =
        (await book.act(`CLUSTER MEET ${n.name} with ${helper.name}`, async () => {
          // CLUSTER MEET takes an IP: on Kubernetes the address is a pod's DNS name.
          const { address: ip } = await lookup(helper.address.host, { family: 4 });
          await ask(n, ["CLUSTER", "MEET", ip, String(helper.address.port)]);
        })) || acted;
    }
    if (acted) {
      book.step("waiting until every node reports the cluster ok");
      const { masters, replicasPerMaster } = stack.topology.redis;
      const whole = (all: typeof seen) =>
        all.every(serves) && all.filter((n) => "linked" in n && n.linked).length === masters * replicasPerMaster;
      await spinner("waiting for the cluster", () =>
        waitUntil("the cluster", async () => whole(await survey()), { timeoutMs: 60_000, intervalMs: 500 }),
      ).catch(() => undefined); // the checks below say what is still wrong
      seen = await survey();
    }
  }
  let healthy = true;
  for (const n of seen) {
    const ok = n.up && "info" in n && n.info!.cluster_state === "ok" && n.info!.cluster_slots_ok === "16384";
    healthy &&= Boolean(ok);
    book.check(
      `${n.name} (${hostPort(n.address)})`,
      Boolean(ok),
      n.up && "info" in n
        ? `${n.role}, cluster_state ${n.info!.cluster_state}, slots ok ${n.info!.cluster_slots_ok}`
        : `down: ${"error" in n ? n.error : ""}`,
    );
  }
  const { masters, replicasPerMaster } = stack.topology.redis;
  const masterCount = seen.filter((n) => "role" in n && n.role === "master").length;
  const linked = seen.filter((n) => "linked" in n && n.linked && n.role === "slave").length;
  healthy &&= book.check("masters", masterCount === masters, `${masterCount} of ${masters}`);
  healthy &&= book.check(
    "replicas linked",
    linked === masters * replicasPerMaster,
    `${linked} of ${masters * replicasPerMaster}`,
  );

  if (values.failover !== undefined) {
    const target = nodes.find((n) => n.name === values.failover);
    if (!target)
      throw new UsageError(`--failover ${String(values.failover)}: no such node (redis-1…redis-${nodes.length})`);
    // Check: the target is a master with a healthy replica the stack knows, matched by name.
    const view = parseClusterNodes(await ask(target, ["CLUSTER", "NODES"]));
    const me = myself(view);
    const candidates = me && me.flags.includes("master") ? healthyReplicas(view, me.id) : [];
    const pick = candidates
      .map((entry) => ({ entry, node: nodes.find((n) => isNode(entry, n.address)) }))
      .find((c) => c.node !== undefined);
    if (!me || !pick) {
      const why = !me?.flags.includes("master")
        ? `${target.name} is not a master`
        : candidates.length === 0
          ? "it has no linked replica"
          : `none of its replicas (${candidates.map(endpoint).join(", ")}) is a node of this stack`;
      book.check(`${target.name} has a replica to fail over to`, false, why);
      return book.finish(false);
    }
    const replica = pick.node!;
    // Apply, then verify: CLUSTER FAILOVER only starts it, so "OK" alone proves nothing.
    const promoted = await book.act(
      `CLUSTER FAILOVER on ${replica.name}, taking over ${target.name}'s slots`,
      async () => {
        const answer = (await ask(replica, ["CLUSTER", "FAILOVER"])).trim();
        if (answer !== "OK") throw new Error(answer);
        let seen = "no answer yet";
        const promotedNow = async () => {
          const role = firstLine(await ask(replica, ["ROLE"])).trim();
          const state = parseClusterInfo(await ask(replica, ["CLUSTER", "INFO"])).cluster_state;
          seen = `role ${role}, cluster_state ${state}`;
          return role === "master" && state === "ok";
        };
        await spinner(`waiting for ${replica.name} to take over`, () =>
          waitUntil(`${replica.name} promoted`, promotedNow, { timeoutMs: FAILOVER_TIMEOUT_MS, intervalMs: 250 }),
        ).catch(() => {
          throw new Error(
            `${replica.name} not master with cluster_state ok after ${FAILOVER_TIMEOUT_MS / 1000} s (${seen})`,
          );
        });
      },
    );
    if (promoted) {
      book.check(`${replica.name} (${hostPort(replica.address)}) is master`, true, "cluster_state ok");
      // The old master turns replica once the new configuration reaches it: a moment later at most.
      const roleOf = async () => firstLine(await ask(target, ["ROLE"])).trim();
      await waitUntil(`${target.name} a replica`, async () => (await roleOf()) === "slave", {
        timeoutMs: 10_000,
        intervalMs: 250,
      }).catch(() => undefined); // the check below says what it is
      const demoted = await roleOf();
      healthy &&= book.check(`${target.name} follows it`, demoted === "slave", `role ${demoted}`);
    }
  }
  return book.finish(healthy);
}
