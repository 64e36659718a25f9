/**
 * The stack's control socket. The process that owns a stack (`npm start`, or the test suite) is the
 * only one that can start its processes: the supervisor holds their specs and restarts them. A
 * runbook in another process asks it, by name, to stop a process or start one again (a failover
 * moving a MariaDB data directory, on-call starting stopped workers).
 *
 * HTTP over a Unix socket in the state folder, mode 0600: only this user, never on the network.
 *   GET  /processes              → [{ name, pid, running }] every process the stack has run
 *   POST /processes/NAME/stop    → { name, running: false } (a no-op when it is not running)
 *   POST /processes/NAME/start   → { name, pid, running: true } (a no-op when it is running)
 * Unknown name → 404 { error: "unknown_process" }.
 */
import fs from "node:fs";
import http from "node:http";
import type { Supervisor } from "./supervisor";

/** One process as the control socket reports it. */
export interface ControlProcess {
  name: string;
  pid: number | null;
  running: boolean;
}

function describe(supervisor: Supervisor, name: string): ControlProcess {
  const m = supervisor.processes.get(name);
  return { name, pid: m && !m.exited ? m.pid : null, running: Boolean(m && !m.exited) };
}

/** Serve the control socket at `socketPath`; returns how to close it. */
export async function startControlServer(socketPath: string, supervisor: Supervisor): Promise<() => Promise<void>> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const handle = async () => {
      const url = new URL(req.url ?? "/", "http://stack");
      if (req.method === "GET" && url.pathname === "/processes")
        return reply(
          200,
          supervisor.knownNames().map((n) => describe(supervisor, n)),
        );
      const m = /^\/processes\/([A-Za-z0-9_-]+)\/(stop|start)$/.exec(url.pathname);
      if (!m || req.method !== "POST") return reply(404, { error: "not_found" });
      const [, name, action] = m;
      if (name === undefined || !supervisor.knownNames().includes(name))
        return reply(404, { error: "unknown_process", name });
      const now = describe(supervisor, name);
      if (action === "stop" && now.running) await supervisor.stop(name);
      if (action === "start" && !now.running) supervisor.startAgain(name);
      return reply(200, describe(supervisor, name));
    };
    handle().catch((err: Error) => reply(500, { error: "failed", message: err.message }));
  });
  fs.rmSync(socketPath, { force: true }); // left by an owner that was killed
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }).finally(() => fs.rmSync(socketPath, { force: true }));
}

/** A client of a stack's control socket (runbooks, tests). */
export class StackControl {
  constructor(readonly socketPath: string) {}

  list(): Promise<ControlProcess[]> {
    return this.request("GET", "/processes") as Promise<ControlProcess[]>;
  }

  /** Stop a process of the stack (its stop signal, then SIGKILL after its timeout). */
  stop(name: string): Promise<ControlProcess> {
    return this.request("POST", `/processes/${encodeURIComponent(name)}/stop`) as Promise<ControlProcess>;
  }

  /** Start a stopped or exited process of the stack again, as the stack first started it. */
  start(name: string): Promise<ControlProcess> {
    return this.request("POST", `/processes/${encodeURIComponent(name)}/start`) as Promise<ControlProcess>;
  }

  private request(method: string, path: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path, timeout: 60_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = body;
          }
          if (res.statusCode === 200) resolve(parsed);
          else reject(new Error(`stack control ${method} ${path}: HTTP ${res.statusCode} ${body}`));
        });
      });
      req.on("timeout", () => req.destroy(new Error(`stack control ${method} ${path}: no answer in 60 s`)));
      req.on("error", (err) =>
        reject(new Error(`stack control at ${this.socketPath}: ${err.message} (is the stack's owner running?)`)),
      );
      req.end();
    });
  }
}
