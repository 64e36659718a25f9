import { execFile, spawn } from "node:child_process";
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

/** A one-shot container the fake engine was asked to create, and its run once started. */
interface OneShotRun {
  cmd: string[];
  env: Record<string, string>;
  done?: Promise<{ code: number; stdout: Buffer; stderr: Buffer }>;
}

/** Docker's non-TTY log framing: per chunk, [stream, 0, 0, 0, size (BE)] then the bytes. */
const frame = (stream: 1 | 2, data: Buffer) => {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
};

/**
 * No Docker engine runs here: a unix-socket HTTP server answers the Engine API calls the runbooks
 * make, with the test stack itself. A container of the stack (inspect, start, stop by name) is the
 * stack's process of that name, through its control socket — so a runbook's Docker path acts on
 * real processes. A one-shot container (create, start, wait, logs, delete) runs its command on this
 * host, with each named volume it mounts standing for a folder: `volumes` maps a volume to one (a
 * MariaDB server's data directory), other volumes get a fresh folder; wherever the command line or
 * the environment names the mount path, the folder's path is given instead. Read-only mounts are
 * not enforced. Every call is recorded. What it cannot show is that a real engine answers the same
 * way (unverified here).
 */
export async function dockerEngineOverStack(
  volumes: Record<string, string> = {},
): Promise<{ socketPath: string; calls: string[]; close: () => void }> {
  const control = testControl();
  const socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "engine-")), "docker.sock");
  const calls: string[] = [];
  const oneShots = new Map<string, OneShotRun>();
  const folder = (volume: string) => (volumes[volume] ??= fs.mkdtempSync(path.join(os.tmpdir(), `volume-${volume}-`)));
  const answer = (res: http.ServerResponse, status: number, body?: unknown) =>
    void res.writeHead(status).end(body === undefined ? undefined : JSON.stringify(body));

  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      void handle(req.method ?? "", new URL(req.url ?? "/", "http://engine"), body, res).catch((err: Error) =>
        answer(res, 500, { message: err.message }),
      );
    });
  });

  async function handle(method: string, url: URL, body: string, res: http.ServerResponse): Promise<void> {
    if (method === "POST" && url.pathname === "/containers/create") {
      const spec = JSON.parse(body) as { Cmd: string[]; Env?: string[]; HostConfig?: { Binds?: string[] } };
      const mounts = new Map(
        (spec.HostConfig?.Binds ?? []).map((b) => [b.split(":")[1], folder(b.split(":")[0])] as const),
      );
      const mapped = (v: string) => mounts.get(v) ?? v;
      const env = Object.fromEntries(
        (spec.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), mapped(e.slice(e.indexOf("=") + 1))]),
      );
      oneShots.set(url.searchParams.get("name")!, { cmd: spec.Cmd.map(mapped), env });
      return answer(res, 201, { Id: url.searchParams.get("name") });
    }
    const m = /^\/containers\/([^/]+)(?:\/(json|start|stop|wait|logs))?$/.exec(url.pathname);
    const name = m ? decodeURIComponent(m[1]) : "";
    const oneShot = oneShots.get(name);
    if (m && oneShot) {
      if (method === "DELETE") return void (oneShots.delete(name), answer(res, 204));
      if (m[2] === "start") {
        oneShot.done = new Promise((resolve) => {
          const child = spawn(oneShot.cmd[0], oneShot.cmd.slice(1), {
            cwd: repoRoot,
            env: { ...process.env, ...oneShot.env },
          });
          const out: Buffer[] = [];
          const err: Buffer[] = [];
          child.stdout.on("data", (c: Buffer) => out.push(c));
          child.stderr.on("data", (c: Buffer) => err.push(c));
          child.on("close", (code) =>
            resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }),
          );
        });
        return answer(res, 204);
      }
      if (m[2] === "wait") return answer(res, 200, { StatusCode: (await oneShot.done!).code });
      if (m[2] === "logs") {
        const { stdout, stderr } = await oneShot.done!;
        return void res.writeHead(200).end(Buffer.concat([frame(1, stdout), frame(2, stderr)]));
      }
    }
    if (method === "DELETE") return answer(res, 404, { message: `No such container: ${name}` });
    // The runbooks container itself: one-shot containers run from its image.
    if (name === "runbooks" && m?.[2] === "json")
      return answer(res, 200, { Image: "sha256:app-image", State: { Running: true } });
    const p = (await control.list()).find((x) => x.name === name);
    if (!m || !p) return answer(res, 404, { message: `No such container: ${name}` });
    if (m[2] === "json") return answer(res, 200, { State: { Running: p.running } });
    const wanted = m[2] === "start";
    if (p.running === wanted) return answer(res, 304);
    await (wanted ? control.start(p.name) : control.stop(p.name));
    answer(res, 204);
  }

  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { socketPath, calls, close: () => server.close() };
}
