import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
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

/**
 * No Docker engine runs here: a unix-socket HTTP server answers the three Engine API calls the
 * runbooks make (inspect, start, stop a container by name) with the test stack's own processes,
 * through its control socket — so a runbook's Docker path acts on real processes. Every call is
 * recorded. What it cannot show is that a real engine answers the same way (unverified here).
 */
export async function dockerEngineOverStack(): Promise<{ socketPath: string; calls: string[]; close: () => void }> {
  const control = testControl();
  const socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "engine-")), "docker.sock");
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const m = /^\/containers\/([^/]+)\/(json|start|stop)(\?.*)?$/.exec(req.url ?? "");
    const name = m && decodeURIComponent(m[1]);
    void (async () => {
      const p = (await control.list()).find((x) => x.name === name);
      if (!m || !p) return void res.writeHead(404).end(JSON.stringify({ message: `No such container: ${name}` }));
      if (m[2] === "json") return void res.writeHead(200).end(JSON.stringify({ State: { Running: p.running } }));
      const wanted = m[2] === "start";
      if (p.running === wanted) return void res.writeHead(304).end();
      await (wanted ? control.start(p.name) : control.stop(p.name));
      res.writeHead(204).end();
    })().catch((err: Error) => res.writeHead(500).end(JSON.stringify({ message: err.message })));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { socketPath, calls, close: () => server.close() };
}
