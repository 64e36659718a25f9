import { testAddresses } from "../stack/test-stack";
import { at } from "./checked";

/** Sum of a counter on one API replica, over the series whose labels include `labels`. */
export function replicaCounter(replica: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  return counterAt(at(testAddresses().api, replica, "the API replica").port, name, labels);
}

/** Sum of a counter on the /metrics endpoint at `port` (API replica, worker…), over the matching series. */
export async function counterAt(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([^\s]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const seriesLabels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => seriesLabels[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** The same counter summed over every API replica. */
export async function allReplicasCounter(name: string, labels: Record<string, string> = {}): Promise<number[]> {
  return Promise.all(testAddresses().api.map((_, i) => replicaCounter(i, name, labels)));
}
