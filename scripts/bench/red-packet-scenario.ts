import type { LoadPlan } from "../load/closed";
import { createPacket, type CreatedPacket } from "../load/fixtures";
import { grabbedShare, moneyConserved, packetInvariants, waitGrabs } from "../load/invariants";
import { roundRobin } from "../load/round-robin";
import { entryUrl } from "../load/target";
import type { BenchContext } from "./measure";
import { closed, open, writeScenario } from "./measure";
import type { LoadRun, ScenarioResult } from "./results";

/** Parts of one packet: the most the API allows. */
const PARTS = 10_000;

/**
 * Grabs of `packets`: request i grabs packet ⌊i / PARTS⌋ as user i mod 2·PARTS, so every packet sees
 * PARTS distinct users and empties exactly; past the last packet, requests wrap (already_grabbed).
 */
function grabPlan(b: BenchContext, packets: CreatedPacket[], accepted: Array<Map<number, number>>): LoadPlan {
  const grabbers = b.users.slice(0, 2 * PARTS);
  const userOf = (i: number) => roundRobin(grabbers, i, "grabber");
  const packetOf = (i: number) => Math.floor(i / PARTS);
  return {
    url: entryUrl(b.target),
    request: (i) => ({
      method: "POST",
      path: `/api/v1/red-packets/${roundRobin(packets, packetOf(i), "packet").ref}/grabs`,
      headers: { authorization: `Bearer ${userOf(i).token}` },
    }),
    expected: (key) => ["200", "409 already_grabbed", "410 empty"].includes(key),
    onAnswer(i, status, body) {
      const share = grabbedShare(status, body);
      if (share !== null) roundRobin(accepted, packetOf(i), "packet").set(userOf(i).id, share);
    },
  };
}

/** A run over fresh packets, then the wait until every 200 is persisted, and the invariants. */
async function packetRun(b: BenchContext, packetCount: number, run: (plan: LoadPlan) => Promise<LoadRun>) {
  const creator = b.users.at(-1);
  if (!creator) throw new Error("red-packet grabs need a user to create the packets");
  const packets: CreatedPacket[] = [];
  for (let p = 0; p < packetCount; p++) packets.push(await createPacket(b.target, creator, PARTS));
  const accepted = packets.map(() => new Map<number, number>());
  const result = await run(grabPlan(b, packets, accepted));
  const total = accepted.reduce((n, a) => n + a.size, 0);
  const ids = packets.map((p) => p.id);
  const drainMs = await waitGrabs(b.target, ids);
  b.log(`  ${result.model}: ${total} grabs, persisted ${drainMs} ms after the run`);
  const invariants = [...(await packetInvariants(b.target, ids, accepted)), await moneyConserved(b.target)];
  return { run: result, drainMs, drained: total, invariants };
}

/** Red-packet grab storm: packets of 10,000 parts, each grabbed by 10,000 distinct users. */
export async function redPacketGrabs(
  b: BenchContext,
  expectedRps: number,
): Promise<Omit<ScenarioResult, "ratioToCeiling">> {
  if (b.users.length < 2 * PARTS) throw new Error(`red-packet grabs need ${2 * PARTS} users`);
  // Enough packets for the run at up to twice the expected rate; the rest of the requests wrap.
  const packetsFor = (rps: number) => Math.max(1, Math.ceil((2 * rps * b.settings.durationSeconds) / PARTS));
  const closedPart = await packetRun(b, packetsFor(expectedRps), (plan) => closed(b, plan));
  const openPart = await packetRun(b, packetsFor(closedPart.run.rps), (plan) => open(b, plan, closedPart.run.rps));
  const path = "POST /api/v1/red-packets/:id/grabs";
  return writeScenario(
    { id: "red-packet-grabs", title: "Red-packet grab storm", path, ceiling: "koa-bare" },
    closedPart,
    openPart,
  );
}
