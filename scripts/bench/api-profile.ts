import fs from "node:fs/promises";
import path from "node:path";
import { hostPidOf, type LoadTarget } from "../load/target";

/** Where one API process spent a run, from V8's sampling profiler. */
export interface ApiProfile {
  /** The stack process profiled (api-1: nginx spreads requests evenly over the replicas). */
  process: string;
  /** Share of the run's samples the process was not idle. */
  busyShare: number;
  /** Self time of each group (a package, a floodgate file, a Node module, GC), as a share of busy samples; the biggest first. */
  top: Record<string, number>;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const INSPECTOR_PORT = 9229;
const TOP_GROUPS = 12;

/** The group a sample's own frame counts towards: a package, a floodgate file, a Node module, or V8's own. */
export function groupOf(frame: ProfileNode["callFrame"]): string {
  const url = frame.url ?? "";
  const [, pkg] = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url) ?? [];
  if (pkg) return pkg;
  const [, own] = /\/((?:services|scripts)\/.+)$/.exec(url) ?? [];
  if (own) return own;
  if (url.startsWith("node:")) return url;
  if (url) return url;
  // No script: V8's own work ("(garbage collector)", "(program)", "(idle)") or a native call.
  return frame.functionName.startsWith("(") ? frame.functionName : `native ${frame.functionName || "(anonymous)"}`;
}

/** Busy share and the biggest self-time groups of a V8 CPU profile. */
export function summarize(processName: string, profile: CpuProfile): ApiProfile {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  let idle = 0;
  for (const id of profile.samples) {
    const group = groupOf(byId.get(id)!.callFrame);
    if (group === "(idle)") idle++;
    else counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  const busy = profile.samples.length - idle;
  const top = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_GROUPS)
    .map(([group, n]) => [group, busy === 0 ? 0 : n / busy] as const);
  return {
    process: processName,
    busyShare: profile.samples.length === 0 ? 0 : busy / profile.samples.length,
    top: Object.fromEntries(top),
  };
}

/** A Chrome DevTools Protocol session over the inspector's WebSocket. */
class Inspector {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.onclose = () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error("the inspector session closed"));
      this.pending.clear();
    };
    ws.onmessage = (event) => {
      const m = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id!);
      if (m.error) waiter.reject(new Error(m.error.message));
      else waiter.resolve(m.result);
    };
  }

  /** Open `pid`'s inspector (SIGUSR1 makes Node listen on 127.0.0.1:9229) and connect to it. */
  static async open(pid: number): Promise<Inspector> {
    process.kill(pid, "SIGUSR1");
    let targets: Array<{ webSocketDebuggerUrl: string }> = [];
    for (let i = 0; i < 50 && targets.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      targets = await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)
        .then((r) => r.json() as Promise<typeof targets>)
        .catch(() => []);
    }
    const [target] = targets;
    if (!target) throw new Error(`process ${pid} opened no inspector on port ${INSPECTOR_PORT}`);
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`could not connect to process ${pid}'s inspector`));
    });
    return new Inspector(ws);
  }

  /** One CDP call; rejects after `timeoutMs` without an answer (a bench must not hang on a profiler). */
  send<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from the inspector within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle =
        <A>(fn: (a: A) => void) =>
        (a: A) => {
          clearTimeout(timer);
          fn(a);
        };
      this.pending.set(id, { resolve: settle(resolve as (r: unknown) => void), reject: settle(reject) });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Close the process's inspector (it stops listening on the port) and this session. */
  async close(): Promise<void> {
    // The session ends with the inspector, so the answer may never come: wait a moment at most.
    await this.send(
      "Runtime.evaluate",
      { expression: "process.getBuiltinModule('node:inspector').close()" },
      1000,
    ).catch(() => undefined);
    this.ws.close();
  }
}

/**
 * Run `fn` while V8's sampling profiler records `processName` (through its inspector, opened for the
 * run and closed after it). Sampling costs the process a few percent of its throughput.
 */
export async function profileApi<T>(
  t: LoadTarget,
  processName: string,
  fn: () => Promise<T>,
  saveTo?: string,
): Promise<{ result: T; profile: ApiProfile }> {
  return profileProcess(await hostPidOf(t, processName), processName, fn, saveTo);
}

/** Run `fn` while V8's sampling profiler records the Node process `pid` (reported as `processName`). */
export async function profileProcess<T>(
  pid: number,
  processName: string,
  fn: () => Promise<T>,
  /** Where to keep the whole profile (a .cpuprofile file, for Chrome DevTools or speedscope). */
  saveTo?: string,
): Promise<{ result: T; profile: ApiProfile }> {
  const inspector = await Inspector.open(pid);
  try {
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.start");
    const result = await fn();
    const { profile } = await inspector.send<{ profile: CpuProfile }>("Profiler.stop");
    if (saveTo) {
      await fs.mkdir(path.dirname(saveTo), { recursive: true });
      await fs.writeFile(saveTo, JSON.stringify(profile));
    }
    return { result, profile: summarize(processName, profile) };
  } finally {
    await inspector.close();
  }
}
