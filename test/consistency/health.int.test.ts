import http from "node:http";
import { readState } from "../../infra/targets/local/state";
import { StackControl } from "../../infra/targets/local/control";
import { isAlive } from "../../infra/targets/local/supervisor";
import { counterAt } from "../support/metrics";
import { eventually, getJson } from "../stack/clients";
import { testAddresses, testLayout } from "../stack/test-stack";
import { at } from "../support/checked";

interface Dependencies {
  status: string;
  checks: Record<string, { status: "up" | "down"; error?: string }>;
}

const state = () => readState(testLayout().stateFile)!;
const pidOf = (name: string) => state().processes.find((p) => p.name === name)!.pid;
const pidsMatching = (re: RegExp) =>
  state()
    .processes.filter((p) => re.test(p.name))
    .map((p) => p.pid);
const replicas = () => testAddresses().api;
const replica = (i: number) => at(replicas(), i, "the API replica");
const origin = (i: number) => `http://127.0.0.1:${replica(i).port}`;
const dependencies = (i: number) => getJson<Dependencies>(`${origin(i)}/health/dependencies`);

// Waits until every replica's internal report shows `dependency` in `status`.
const reported = (dependency: string, status: "up" | "down") =>
  eventually(
    async () => {
      const reports = await Promise.all(replicas().map((_, i) => dependencies(i)));
      return reports.every((r) => r.body.checks[dependency]?.status === status) ? true : undefined;
    },
    60_000,
    250,
  );

// Readiness and liveness of every replica, directly and through nginx.
async function probes(): Promise<Array<{ url: string; status: number; body: unknown }>> {
  const nginx = `http://127.0.0.1:${testAddresses().nginx.port}`;
  const urls = [
    ...replicas().flatMap((_, i) => [`${origin(i)}/api/v1/health`, `${origin(i)}/api/v1/health/live`]),
    `${nginx}/api/v1/health`,
    `${nginx}/api/v1/health/live`,
  ];
  return Promise.all(urls.map(async (url) => ({ url, ...(await getJson(url)) })));
}

const allOk = (answers: Array<{ url: string; status: number; body: unknown }>) =>
  answers.map(({ url }) => ({ url, status: 200, body: { status: "ok", instance: expect.any(String) } }));

describe("API readiness and liveness when a shared dependency is down", () => {
  it("stay 200 with a MariaDB replica frozen (SIGSTOP); the internal port and the metric show it down", async () => {
    const pid = pidOf("mysql-replica-1");
    process.kill(pid, "SIGSTOP");
    try {
      await reported("mysqlReplica1", "down");
      const answers = await probes();
      expect(answers).toEqual(allOk(answers));
      expect(await counterAt(replica(0).port, "floodgate_dependency_up", { dependency: "mysqlReplica1" })).toBe(0);
      expect(await counterAt(replica(0).port, "floodgate_dependency_up", { dependency: "mysqlPrimary" })).toBe(1);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await reported("mysqlReplica1", "up");
  });

  it("stay 200 with every Redis node frozen (SIGSTOP)", async () => {
    const pids = pidsMatching(/^redis-\d+$/);
    pids.forEach((pid) => process.kill(pid, "SIGSTOP"));
    try {
      await reported("redis", "down");
      const answers = await probes();
      expect(answers).toEqual(allOk(answers));
    } finally {
      pids.forEach((pid) => process.kill(pid, "SIGCONT"));
    }
    await reported("redis", "up");
  });

  it("stay 200 with RabbitMQ stopped, and the public answer never carries a driver's error", async () => {
    const control = new StackControl(state().controlSocket!);
    await control.stop("rabbitmq");
    try {
      await reported("rabbitmq", "down");
      const answers = await probes();
      expect(answers).toEqual(allOk(answers));
      const detail = await dependencies(0);
      expect(detail.body).toMatchObject({ status: "ok", checks: { rabbitmq: { status: "down" } } });
      expect(detail.body.checks.rabbitmq?.error).toEqual(expect.any(String));
    } finally {
      await control.start("rabbitmq");
    }
    await reported("rabbitmq", "up");
  });
});

describe("API readiness while draining", () => {
  it("answers 503 draining on a connection opened before SIGTERM, while liveness elsewhere stays 200", async () => {
    const pid = pidOf("api-2");
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; body: { status?: string } }>((resolve, reject) => {
        http
          .get(`${origin(1)}${path}`, { agent }, (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString()));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { status?: string } }),
            );
          })
          .on("error", reject);
      });
    try {
      expect(await get("/api/v1/health")).toMatchObject({ status: 200, body: { status: "ok" } });
      process.kill(pid, "SIGTERM");
      // The listener is closed at once; the kept-alive connection is still served during the drain.
      await new Promise((r) => setTimeout(r, 200));
      expect(await get("/api/v1/health")).toMatchObject({ status: 503, body: { status: "draining" } });
      expect((await getJson(`${origin(0)}/api/v1/health`)).status).toBe(200);
    } finally {
      agent.destroy();
    }
    await eventually(async () => (isAlive(pid) ? undefined : true), 30_000, 100);
    // The supervisor starts the replica again; later tests see the whole stack.
    await eventually(
      async () =>
        pidOf("api-2") !== pid && (await getJson(`${origin(1)}/api/v1/health`).catch(() => null))?.status === 200
          ? true
          : undefined,
      30_000,
      250,
    );
  });
});
