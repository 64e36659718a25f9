import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { promisify } from "node:util";
import { hostPort } from "../../infra/topology";
import { mysqlSockets, rootSql } from "../../scripts/stack/components/mysql";
import { StackControl } from "../../scripts/stack/control";
import { readState } from "../../scripts/stack/state";
import { stackPid } from "../flash-sales/support";
import { eventually, testAddresses } from "../stack/clients";
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

/** How a one-shot container or pod ended. */
interface HostRun {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Run a one-shot pod's command on this host, each mount path (exactly, or as a
 * prefix) in its command line and environment replaced by the folder standing for its volume.
 */
function runOnHost(command: string[], env: Record<string, string>, mounts: Map<string, string>): Promise<HostRun> {
  const mapped = (v: string) =>
    mounts.get(v) ?? [...mounts].reduce((s, [from, to]) => s.split(`${from}/`).join(`${to}/`), v);
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1).map(mapped), {
      cwd: repoRoot,
      env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, mapped(v)])) },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

/** How a process of the stack maps onto a StatefulSet pod (the program's own mapping, kubernetesProcesses). */
interface PodOf {
  name: string;
  statefulSet?: string;
  ordinal?: number;
}

/**
 * No Kubernetes cluster runs here: a plain-HTTP server on 127.0.0.1 answers the API calls the
 * runbooks make (as `kubectl proxy` would), with the test stack itself. A StatefulSet pod is the
 * stack's process of that name (`processes`); its StatefulSet's scale starts and stops them through
 * the control socket. Like the StatefulSet controller, a pod within the desired replicas that is not
 * running is started again when it is looked at — unless the test marked it `crashing`, which
 * reports it in CrashLoopBackOff until its StatefulSet is scaled below it. A one-shot pod runs its
 * command on this host, each claim it mounts standing for a folder (`claims`: a MariaDB server's data
 * directory), the mount path replaced by the folder in its command line and environment. Unverified
 * against a real API server.
 */
export async function kubernetesApiOverStack(
  processes: PodOf[],
  claims: Record<string, string>,
): Promise<{ url: string; calls: string[]; crashing: Set<string>; close: () => void }> {
  const control = testControl();
  const calls: string[] = [];
  const crashing = new Set<string>();
  // Each StatefulSet wants the pods the stack runs now (the program's API slots beyond them are scaled down).
  const desired = new Map<string, number>();
  const runningNow = new Set((await control.list()).filter((p) => p.running).map((p) => p.name));
  for (const p of processes)
    if (p.statefulSet !== undefined)
      desired.set(p.statefulSet, (desired.get(p.statefulSet) ?? 0) + (runningNow.has(p.name) ? 1 : 0));
  const byPod = new Map(processes.map((p) => [`${p.statefulSet}-${p.ordinal}`, p]));
  const oneShots = new Map<string, { phase: string; log: string }>();
  const answer = (res: http.ServerResponse, status: number, body?: unknown) =>
    void res
      .writeHead(status, { "content-type": "application/json" })
      .end(body === undefined ? undefined : JSON.stringify(body));
  const notFound = (res: http.ServerResponse, what: string) =>
    answer(res, 404, { kind: "Status", message: `${what} not found` });

  async function handle(method: string, url: URL, body: string, res: http.ServerResponse): Promise<void> {
    const pods = /^\/api\/v1\/namespaces\/[^/]+\/pods(?:\/([^/]+))?(\/log)?$/.exec(url.pathname);
    const scale = /^\/apis\/apps\/v1\/namespaces\/[^/]+\/statefulsets\/([^/]+)\/scale$/.exec(url.pathname);
    if (pods && method === "POST" && !pods[1]) {
      const spec = JSON.parse(body) as {
        metadata: { name: string };
        spec: {
          containers: Array<{
            command: string[];
            env?: Array<{ name: string; value: string }>;
            volumeMounts?: Array<{ name: string; mountPath: string }>;
          }>;
          volumes?: Array<{ name: string; persistentVolumeClaim: { claimName: string } }>;
        };
      };
      const c = spec.spec.containers[0];
      const claimOf = new Map((spec.spec.volumes ?? []).map((v) => [v.name, v.persistentVolumeClaim.claimName]));
      const mounts = new Map(
        (c.volumeMounts ?? []).map((m) => {
          const claim = claimOf.get(m.name)!;
          if (!claims[claim]) throw new Error(`no claim ${claim}`);
          return [m.mountPath, claims[claim]] as const;
        }),
      );
      const run = { phase: "Running", log: "" };
      oneShots.set(spec.metadata.name, run);
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      void runOnHost(c.command, env, mounts).then((r) => {
        run.log = Buffer.concat([r.stdout, r.stderr]).toString();
        run.phase = r.code === 0 ? "Succeeded" : "Failed";
      });
      return answer(res, 201, spec);
    }
    if (pods && pods[1]) {
      const name = decodeURIComponent(pods[1]);
      const oneShot = oneShots.get(name);
      if (oneShot) {
        if (pods[2]) return void res.writeHead(200, { "content-type": "text/plain" }).end(oneShot.log);
        if (method === "DELETE") return void (oneShots.delete(name), answer(res, 200, {}));
        return answer(res, 200, { status: { phase: oneShot.phase } });
      }
      const p = byPod.get(name);
      if (!p || (method !== "GET" && method !== "DELETE")) return notFound(res, `pods "${name}"`);
      if (method === "DELETE") {
        crashing.delete(p.name);
        await control.stop(p.name);
        return answer(res, 200, {});
      }
      if (crashing.has(p.name))
        return answer(res, 200, {
          status: {
            phase: "Running",
            conditions: [{ type: "Ready", status: "False" }],
            containerStatuses: [{ state: { waiting: { reason: "CrashLoopBackOff" } } }],
          },
        });
      const live = (await control.list()).find((x) => x.name === p.name);
      if (live?.running)
        return answer(res, 200, { status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } });
      // The StatefulSet controller recreates a pod within its replicas; here, once it is looked at.
      if (live && p.ordinal! < (desired.get(p.statefulSet!) ?? 0)) void control.start(p.name).catch(() => undefined);
      return notFound(res, `pods "${name}"`);
    }
    if (scale) {
      const set = decodeURIComponent(scale[1]);
      if (!desired.has(set)) return notFound(res, `statefulsets.apps "${set}"`);
      if (method === "PATCH") {
        const replicas = (JSON.parse(body) as { spec: { replicas: number } }).spec.replicas;
        desired.set(set, replicas);
        const live = await control.list();
        for (const p of processes.filter((x) => x.statefulSet === set)) {
          const running = live.find((x) => x.name === p.name)?.running;
          if (p.ordinal! >= replicas) {
            crashing.delete(p.name);
            if (running) await control.stop(p.name);
          } else if (running === false && !crashing.has(p.name)) await control.start(p.name);
        }
      }
      return answer(res, 200, { spec: { replicas: desired.get(set) } });
    }
    notFound(res, url.pathname);
  }

  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      void handle(req.method ?? "", new URL(req.url ?? "/", "http://api"), body, res).catch((err: Error) =>
        answer(res, 500, { message: err.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, calls, crashing, close: () => server.close() };
}

const primarySocket = () => mysqlSockets({ addresses: testAddresses(), layout: testLayout() })["mysql-primary"];

/**
 * A MariaDB account like the one the Docker and Kubernetes programs give the runbooks (root over
 * TCP): the local stack's root is socket-only, so a test creates one like it (binlogged: the
 * replicas get it too) and drops it after.
 */
export function tcpAdmin(user: string) {
  const account = { user, password: randomBytes(12).toString("hex") };
  return {
    account,
    create: () =>
      rootSql(
        primarySocket(),
        `CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY '${account.password}';
         GRANT ALL PRIVILEGES ON *.* TO '${user}'@'127.0.0.1' WITH GRANT OPTION;`,
      ),
    drop: () => rootSql(primarySocket(), `DROP USER IF EXISTS '${user}'@'127.0.0.1'`),
  };
}

/**
 * The failover drill on a deployed target: 100 rows of a probe database reach mysql-replica-1,
 * `fault` takes the primary down for good (SIGKILL, and whatever keeps the platform from bringing it
 * back), `run` (the target's runbook) fails over with --apply --yes, and then the primary's address
 * serves the promoted server, writable with every row, the old primary follows it, and a second run
 * does nothing. Returns the failover's output for the target's own checks.
 */
export async function failoverDrill(
  run: (...args: string[]) => Promise<{ code: number; out: string }>,
  probe: string,
  fault: () => Promise<void> | void = () => undefined,
): Promise<string> {
  const sockets = mysqlSockets({ addresses: testAddresses(), layout: testLayout() });
  const count = async (name: string) =>
    Number((await rootSql(sockets[name], `SELECT COUNT(*) FROM ${probe}.t`)).trim());
  await rootSql(
    sockets["mysql-primary"],
    `CREATE DATABASE IF NOT EXISTS ${probe}; CREATE TABLE IF NOT EXISTS ${probe}.t (id INT PRIMARY KEY);
     USE ${probe}; DELETE FROM t; INSERT INTO t SELECT seq FROM seq_1_to_100;`,
  );
  try {
    await eventually(async () => ((await count("mysql-replica-1")) === 100 ? true : undefined), 30_000);
    await fault();
    process.kill(stackPid("mysql-primary"), "SIGKILL");
    await eventually(
      async () => ((await testControl().list()).find((p) => p.name === "mysql-primary")?.running ? undefined : true),
      30_000,
    );

    const fix = await run("mysql-failover", "--apply", "--yes");
    if (fix.code !== 0) throw new Error(`mysql-failover exited ${fix.code}:\n${fix.out}`);
    expect(fix.out).toMatch(/ok: mysql-replica-1 holds every committed transaction/);
    expect(fix.out).toMatch(/done\s+promote mysql-replica-1/);
    expect(fix.out).toMatch(/done\s+move mysql-replica-1's data to mysql-primary/);
    expect(fix.out).toMatch(/ok: mysql-replica-1 follows mysql-primary/);

    // The promoted server serves at the primary's address, writable, with every row; the old
    // primary follows it and gets new writes.
    expect((await rootSql(sockets["mysql-primary"], "SELECT @@read_only")).trim()).toBe("0");
    await rootSql(sockets["mysql-primary"], `INSERT INTO ${probe}.t VALUES (101)`);
    expect(await count("mysql-primary")).toBe(101);
    await eventually(async () => ((await count("mysql-replica-1")) === 101 ? true : undefined), 30_000);

    const again = await run("mysql-failover", "--apply", "--yes");
    expect(again.out).not.toMatch(/done\s/);
    if (again.code !== 0) throw new Error(`the second run exited ${again.code}:\n${again.out}`);
    return fix.out;
  } finally {
    await rootSql(sockets["mysql-primary"], `DROP DATABASE IF EXISTS ${probe}`).catch(() => undefined);
  }
}
