/**
 * scale-api: show the API replica count the autoscaler runs, and with `--replicas N --apply` set it
 * now (within the autoscaler's min/max). Blast radius: starts or stops API processes; removed ones
 * leave nginx's upstream before they stop, so no request is dropped. The autoscaler keeps acting on
 * its alerts afterwards: a manual count lasts until the next ApiScaleOut / ApiScaleIn after the cooldown.
 */
import { hostPort } from "../infra/topology";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError } from "./lib/runbook";
import { openStack } from "./lib/stack";

const HELP = `usage: npm run runbook -- scale-api [--replicas N] [options]

Checks the autoscaler and every API replica it runs; with --replicas N and --apply, asks the
autoscaler to run N replicas now (it refuses a count outside its min/max).

  --replicas N       the API replica count to run

${COMMON_HELP}`;

interface ReplicaStatus {
  running: number;
  min: number;
  max: number;
  cooldownSeconds: number;
  signal: { out: boolean; in: boolean };
}

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${body.message ?? ""}`);
  return body;
}

export async function main(argv: string[]): Promise<number> {
  const { options, values, help } = parseRunbookArgs(argv, { replicas: { type: "string" } });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const wanted = values.replicas === undefined ? undefined : Number(values.replicas);
  if (wanted !== undefined && !(Number.isInteger(wanted) && wanted >= 1))
    throw new UsageError(`--replicas ${String(values.replicas)}: must be a whole number of at least 1`);
  const stack = openStack(options);
  if (stack.target === "k8s")
    throw new UsageError(
      "on Kubernetes the HorizontalPodAutoscaler scales the API, not floodgate's autoscaler: kubectl get hpa api, kubectl scale statefulset api --replicas N",
    );
  if (!stack.addresses.autoscaler)
    throw new UsageError(`${stack.description} runs no autoscaler (topology autoscaling.enabled is false)`);
  const base = `http://${hostPort(stack.addresses.autoscaler)}`;
  const book = new Runbook("scale-api", options);

  // Check
  book.step(`autoscaler at ${base}`);
  let status: ReplicaStatus;
  try {
    status = await call<ReplicaStatus>(`${base}/replicas`);
  } catch (err) {
    book.check("autoscaler answers", false, (err as Error).message);
    return book.finish(false);
  }
  const signal = status.signal.out ? "scale-out" : status.signal.in ? "scale-in" : "none";
  book.check(
    "autoscaler answers",
    true,
    `${status.running} replicas, bounds ${status.min}–${status.max}, signal ${signal}`,
  );

  // Plan / Apply
  if (wanted !== undefined) {
    if (wanted < status.min || wanted > status.max)
      throw new UsageError(`--replicas ${wanted}: outside the autoscaler's bounds ${status.min}–${status.max}`);
    if (wanted === status.running) book.check(`${wanted} replicas`, true, "already running, nothing to do");
    else
      await book.act(`scale the API from ${status.running} to ${wanted} replicas`, async () => {
        await call(`${base}/replicas`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ replicas: wanted }),
        });
      });
  }

  // Verify: the replicas the autoscaler reports are slots 1…N (local: ports basePort…), each live.
  const after = await call<ReplicaStatus>(`${base}/replicas`);
  let healthy = book.check(
    "replica count",
    (wanted === undefined || !options.apply || after.running === wanted) &&
      after.running >= after.min &&
      after.running <= after.max,
    `${after.running} running${wanted !== undefined && options.apply ? `, ${wanted} wanted` : ""}`,
  );
  book.step("each replica's liveness");
  const first = stack.addresses.api[0] ?? { host: "127.0.0.1", port: stack.topology.api.basePort };
  for (let i = 0; i < after.running; i++) {
    // Local addresses list the topology's replicas only; a slot the autoscaler added is the next port.
    const address = hostPort(stack.addresses.api[i] ?? { host: first.host, port: first.port + i });
    const live = await fetch(`http://${address}/api/v1/health/live`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.ok)
      .catch(() => false);
    healthy = book.check(`api-${i + 1}`, live, address) && healthy;
  }
  return book.finish(healthy);
}
