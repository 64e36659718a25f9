import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import type { LoadTarget } from "../load/target";

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** A process's CPU time (user + system, its own and its reaped children's), in seconds; 0 once gone. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after "(comm)": the comm may hold spaces, so split after its closing parenthesis.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Every descendant of `pid` (nginx workers, RabbitMQ's Erlang VM), from /proc's children lists. */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/** A stack process name's component: api-2 → api, worker-orders-1 → worker-orders, redis-5 → redis. */
export const componentOf = (name: string) => name.replace(/-\d+$/, "");

/**
 * CPU seconds per component of the stack right now, plus the load generator (this process): every
 * running process this machine sees (its hostPid), with its descendants.
 */
async function snapshot(t: LoadTarget): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  const seen = (await t.control.list()).flatMap((p) => (p.hostPid === undefined ? [] : [{ ...p, pid: p.hostPid }]));
  for (const p of seen) {
    const seconds = [p.pid, ...descendants(p.pid)].reduce((s, pid) => s + cpuSeconds(pid), 0);
    const component = componentOf(p.name);
    totals.set(component, (totals.get(component) ?? 0) + seconds);
  }
  const own = process.cpuUsage();
  totals.set("load generator", (own.user + own.system) / 1e6);
  return totals;
}

/**
 * Where the machine's CPU went while `fn` ran: each component's share of (wall time × cores), the
 * biggest first. A profile at the level that matters on one machine: which process eats the cores.
 */
export async function profileCpu<T>(
  t: LoadTarget,
  fn: () => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = await snapshot(t);
  const started = Date.now();
  const result = await fn();
  const wallSeconds = (Date.now() - started) / 1000;
  const after = await snapshot(t);
  const shares = [...after].map(
    ([c, s]) => [c, Math.max(0, s - (before.get(c) ?? 0)) / (wallSeconds * os.cpus().length)] as const,
  );
  return { result, cpu: Object.fromEntries(shares.sort((a, b) => b[1] - a[1]).filter(([, s]) => s >= 0.005)) };
}
