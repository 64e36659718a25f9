/**
 * scale-api: show the API replica count the autoscaler runs, and with `--replicas N --apply` set it
 * now (within the autoscaler's min/max). Blast radius: starts or stops API processes; removed ones
 * leave nginx's upstream before they stop, so no request is dropped. The autoscaler keeps acting on
 * its alerts afterwards: a manual count lasts until the next ApiScaleOut / ApiScaleIn after the cooldown.
 */
import { retry } from "zx";
import { hostPort } from "../infra/topology";
import { COMMON_HELP, parseRunbookArgs, Runbook, UsageError, type RunbookOptions } from "./lib/runbook";
import type { ReplicaScale } from "../infra/targets";
import { openStack, type RunbookStack } from "./lib/stack";

const HELP = `usage: npm run runbook -- scale-api [--replicas N] [options]

Checks the autoscaler and every API replica it runs; with --replicas N and --apply, asks the
autoscaler to run N replicas now (it refuses a count outside its min/max). On Kubernetes, where
KEDA's HorizontalPodAutoscaler scales the api StatefulSet, it reads and sets the StatefulSet's
replicas within the same bounds and waits for the pods; the HPA may change the count again at its
next decision.

  --replicas N       the API replica count to run

${COMMON_HELP}`;

/** How often, and how far apart, a scale request that failed (409: the autoscaler is busy) is asked (zx's retry). */
const BUSY_RETRIES = 10;
const BUSY_RETRY_DELAY_MS = 2000;

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
  if (stack.apiScale) return scalePlatform(stack, stack.apiScale, wanted, options);
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
        // Asked again on failure, mostly a 409: the autoscaler is in the middle of a step of its own
        // (it starts a replica and waits for its health: seconds), or that step failed. Asking for
        // a count is idempotent.
        await retry(BUSY_RETRIES, BUSY_RETRY_DELAY_MS, () =>
          call(`${base}/replicas`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ replicas: wanted }),
          }),
        );
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

/**
 * Kubernetes: KEDA's HorizontalPodAutoscaler scales the api StatefulSet between the topology's
 * autoscaling bounds; by hand the runbook sets the StatefulSet's replicas (within the same bounds)
 * and waits for each pod to be ready. The HPA keeps acting afterwards, as the autoscaler does
 * elsewhere: a manual count lasts until its next decision.
 */
async function scalePlatform(
  stack: RunbookStack,
  scale: ReplicaScale,
  wanted: number | undefined,
  options: RunbookOptions,
): Promise<number> {
  const control = stack.control;
  const book = new Runbook("scale-api", options);
  const { minReplicas: min, maxReplicas: max } = stack.topology.autoscaling;
  book.step(`${scale.where} in ${stack.description}`);
  let running: number;
  try {
    running = await scale.replicas();
  } catch (err) {
    book.check("Kubernetes API answers", false, (err as Error).message);
    return book.finish(false);
  }
  book.check("Kubernetes API answers", true, `${running} replicas wanted, bounds ${min}–${max} (KEDA's HPA)`);
  if (wanted !== undefined) {
    if (wanted < min || wanted > max)
      throw new UsageError(`--replicas ${wanted}: outside the autoscaling bounds ${min}–${max}`);
    if (wanted === running) book.check(`${wanted} replicas`, true, "already wanted, nothing to do");
    else
      await book.act(`scale ${scale.where} from ${running} to ${wanted} replicas`, async () => {
        await scale.scale(wanted);
        // Ordered pods: api-1…api-N come up, the ones above go.
        for (let i = 1; i <= wanted; i++) await control.start(`api-${i}`);
        for (let i = running; i > wanted; i--) await control.stop(`api-${i}`);
      });
  }
  const after = await scale.replicas();
  const pods = (await control.list()).filter((p) => /^api-\d+$/.test(p.name));
  let healthy = book.check(
    "replica count",
    (wanted === undefined || !options.apply || after === wanted) && after >= min && after <= max,
    `${after} wanted${wanted !== undefined && options.apply ? `, ${wanted} asked for` : ""}`,
  );
  book.step("each replica's pod");
  for (let i = 1; i <= after; i++) {
    const pod = pods.find((p) => p.name === `api-${i}`);
    healthy = book.check(`api-${i}`, Boolean(pod?.running), pod?.running ? "ready" : "not ready") && healthy;
  }
  return book.finish(healthy);
}
