import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { hostPort } from "../../infra/topology";
import { StackControl } from "../../scripts/stack/control";
import { readState } from "../../scripts/stack/state";
import { testAddresses } from "../stack/clients";
import { repoRoot, testLayout } from "../stack/test-stack";

/** Run a runbook as on-call runs it (`npm run runbook -- NAME …`, a child process) against the test stack. */
export async function runbook(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      "npm",
      ["run", "--silent", "runbook", "--", ...args, "--state-dir", testLayout().root],
      { cwd: repoRoot, timeout: 180_000 },
    );
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(e.code ?? -1), out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** An alert's state in the test stack's Prometheus: inactive, pending or firing. */
export async function alertState(name: string): Promise<string> {
  const res = await fetch(`http://${hostPort(testAddresses().prometheus)}/api/v1/alerts`);
  const body = (await res.json()) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
  return body.data.alerts.find((a) => a.labels.alertname === name)?.state ?? "inactive";
}

/** The test stack owner's control socket: stop or start one of its processes by name. */
export const testControl = () => new StackControl(readState(testLayout().stateFile)!.controlSocket!);
