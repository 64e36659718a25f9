import type { InvariantCheck } from "../bench/results";
import type { LoadTarget } from "../load/target";
import {
  apiReplicaKill,
  grabWorkerKill,
  mysqlPrimaryKill,
  ordersWorkerKill,
  rabbitmqKill,
  redisMasterKill,
  redisMasterStop,
  type Fault,
} from "./faults";
import { flashSaleUnderFault, redPacketUnderFault, type StormSize } from "./storms";
import { moneyConserved } from "../load/invariants";

/** One chaos scenario: a storm of one kind under one fault. */
export interface ChaosScenario {
  id: string;
  storm: "flash-sale" | "red-packet";
  fault: Fault;
  /** Flash sales: every client loses its first answer and retries with its key. */
  dropFirstAnswers?: boolean;
}

/** What one scenario showed. */
export interface ChaosResult {
  id: string;
  title: string;
  seconds: number;
  checks: InvariantCheck[];
  /** Set when the scenario itself could not run to the end (the stack would not recover, a fixture failed). */
  error?: string;
}

/** Every scenario `npm run chaos` knows, in the order it runs them. */
export function chaosScenarios(repoRoot: string): ChaosScenario[] {
  const sale = (fault: Fault): ChaosScenario => ({ id: `flash-sale/${fault.id}`, storm: "flash-sale", fault });
  const packet = (fault: Fault): ChaosScenario => ({ id: `red-packet/${fault.id}`, storm: "red-packet", fault });
  return [
    sale(redisMasterKill),
    { ...sale(redisMasterKill), id: "flash-sale/dropped-answers-redis-master-kill", dropFirstAnswers: true },
    sale(redisMasterStop()),
    sale(ordersWorkerKill),
    sale(rabbitmqKill),
    sale(apiReplicaKill),
    packet(redisMasterKill),
    packet(grabWorkerKill),
    // Last: after it the primary and the replica have swapped data directories.
    sale(mysqlPrimaryKill(repoRoot)),
  ];
}

/** The storm size of every scenario unless told otherwise. */
export const DEFAULT_SIZE: StormSize = { units: 200, clients: 500, concurrency: 40, faultAtShare: 0.2 };

/** Run one scenario; an exception becomes a failed result, so the table still shows the rest. */
export async function runScenario(t: LoadTarget, s: ChaosScenario, size = DEFAULT_SIZE): Promise<ChaosResult> {
  const started = Date.now();
  const title = `${s.storm} storm${s.dropFirstAnswers ? " (first answers dropped, keys retried)" : ""} × ${s.fault.title}`;
  try {
    const checks =
      s.storm === "flash-sale"
        ? await flashSaleUnderFault(t, s.fault, size, { dropFirstAnswers: s.dropFirstAnswers })
        : await redPacketUnderFault(t, s.fault, size);
    // Every scenario, whatever it storms: no fault may make or lose money anywhere in the database.
    checks.push(await moneyConserved(t));
    return { id: s.id, title, seconds: (Date.now() - started) / 1000, checks };
  } catch (err) {
    return { id: s.id, title, seconds: (Date.now() - started) / 1000, checks: [], error: (err as Error).message };
  }
}

/** Whether every check of every result held and every scenario ran to the end. */
export const allHeld = (results: ChaosResult[]) => results.every((r) => !r.error && r.checks.every((c) => c.ok));
