/**
 * The Docker target deployed on this machine's real Docker Engine: the program (infra/index.ts with
 * Pulumi.docker.yaml and the overrides below) run under the engine provider, which builds every
 * floodgate image from the program's own docker.Image inputs and creates exactly the program's
 * networks, volumes and containers, in its dependency order (docker-target.fixture.ts). Then the
 * API is used only as a client would, through nginx's published port on 127.0.0.1, and what it
 * promises is checked in MariaDB (queried inside the primary's container, with its own client).
 *
 * What this cannot prove: the Pulumi engine itself (diffs, updates, state — the mocks hand every
 * resource to the provider once); SeaweedFS (s3rver from the services image stands in for the
 * object store); publishing on a public interface (the test publishes on 127.0.0.1).
 */
import { randomUUID } from "node:crypto";
import Docker from "dockerode";
import { demuxLogs } from "../../services/src/platform/docker-engine";
import { ENGINE_TEST_LABEL, removeLabelled } from "../support/engine-provider";
import { SECRET_NAMES, testSecretValue } from "../support/deploy-config";
import { parseTopology } from "../../infra/topology";
import { targetOfFile, type Target } from "../../infra/targets";
import { parseStackFile, STACK_FILE_PATH } from "../../infra/targets/stack-file";
import { masterOfKey, redisMasterKill } from "../../scripts/chaos/faults";
import { at, exactly, first, present } from "../support/checked";
import { runFixture, type FixtureRun } from "./run-fixture";

const OWNER = "docker-target"; // the fixture's label: what removeLabelled finds
const PUBLIC_PORT = 18580;
const ADMIN_PORT = 19590;
const API = `http://127.0.0.1:${PUBLIC_PORT}/api/v1`;
/** Small enough for a 2-core CI machine; every kind of process still runs, replicated. */
const OVERRIDES = {
  publicHost: "127.0.0.1",
  publicPort: PUBLIC_PORT,
  adminPort: ADMIN_PORT,
  dockerNetwork: "floodgate-test",
  dockerSubnet: "172.31.0.0/16",
  topology: {
    api: {
      replicas: 2,
      // Every test client comes from one address (the bridge's gateway), so the per-IP budgets are raised.
      rateLimits: { perIpPerSecond: 100_000, signupsPerMinutePerIp: 100_000, loginsPerMinutePerIp: 100_000 },
    },
    autoscaling: { minReplicas: 2, maxReplicas: 3 },
    workers: { orders: { processes: 1, concurrency: 32 }, redPacketGrabs: { processes: 1, concurrency: 16 } },
    mysql: { replicas: 1, bufferPoolMb: 256 },
    redis: { masters: 3, replicasPerMaster: 1, maxMemoryMb: 128 },
  },
};

const docker = new Docker();
const keep = process.env.FLOODGATE_KEEP_DOCKER_TARGET === "1";
let deployed: FixtureRun;
/** A parsed answer of the API through nginx. */
interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

async function call<T = Record<string, unknown>>(
  method: string,
  pathname: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${API}${pathname}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** A connection nginx closed with no answer: an idle keep-alive connection its old workers drop on a reload. */
const closedWithoutAnswer = (err: unknown) =>
  err instanceof TypeError && /other side closed|ECONNRESET|socket hang up/i.test(String((err as Error).cause ?? ""));

/**
 * `call`, asking again as a client does, up to 10 times: after Retry-After on a 503; and, when the
 * request is safe to repeat (it carries an Idempotency-Key, or is a log-in or a sign-up, whose
 * repeat the caller checks), on a 504 or a connection closed with no answer — nginx reloads when
 * the autoscaler changes its upstream, and a request on an idle keep-alive connection can meet
 * the old worker closing it.
 */
async function callRetrying<T = Record<string, unknown>>(
  ...args: Parameters<typeof call>
): Promise<Answer<T> & { retries: number }> {
  const [, pathname, opts] = args;
  const repeatable = opts?.headers?.["idempotency-key"] !== undefined || ["/sessions", "/users"].includes(pathname);
  for (let retries = 0; ; retries++) {
    let a: Answer<T>;
    try {
      a = await call<T>(...args);
    } catch (err) {
      if (!repeatable || retries === 10 || !closedWithoutAnswer(err)) throw err;
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const again = a.status === 503 || (repeatable && a.status === 504);
    if (!again || retries === 10) return { ...a, retries };
    await new Promise((r) => setTimeout(r, 1000 * Number(a.headers.get("retry-after") ?? 1)));
  }
}

/** Run `fn` over `items` with at most `limit` at a time; answers in order. */
async function bounded<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(at(items, i, "item"), i);
      }
    }),
  );
  return out;
}

/** Poll `fn` until it returns a value other than undefined, or fail after `ms`. */
async function eventually<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const topology = parseTopology({});

/** Run `cmd` in container `name` with `env` added: its exit code and output. */
async function execRaw(name: string, cmd: string[], env: string[] = []) {
  const exec = await docker.getContainer(name).exec({ Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const { ExitCode } = await exec.inspect();
  return { code: ExitCode ?? -1, ...demuxLogs(Buffer.concat(chunks)) };
}

/** Run `cmd` in container `name`: its stdout (throws on a non-zero exit, with stderr). */
async function execIn(name: string, cmd: string[], env: string[] = []): Promise<string> {
  const r = await execRaw(name, cmd, env);
  if (r.code !== 0) throw new Error(`${name}: ${cmd.join(" ")}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const rootPassword = `MYSQL_PWD=${testSecretValue("mysqlRootPassword")}`;

/** A query with MariaDB's own client inside `server`'s container: rows of tab-separated columns. */
async function sql(query: string, server = "mysql-primary"): Promise<string[][]> {
  const out = await execIn(
    server,
    ["mariadb", "--no-defaults", "-uroot", "-N", "-B", "-D", topology.mysql.database, "-e", query],
    [rootPassword],
  );
  return out
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
}

interface User {
  id: number;
  token: string;
}

/** Sign up and log in `n` users through the API, as clients do. */
async function signUp<N extends number>(n: N, prefix: string) {
  const run = randomUUID().slice(0, 8);
  const users = await bounded(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i) => {
      const username = `${prefix}_${run}_${i}`;
      const password = `pw-${randomUUID()}`;
      const created = await callRetrying<{ id: number }>("POST", "/users", { body: { username, password } });
      // A 409 on a repeat: the first attempt did create the user (its answer was lost); the log-in says.
      const createdBefore = created.status === 409 && created.retries > 0;
      if (created.status !== 201 && !createdBefore)
        throw new Error(`sign-up: ${created.status} ${JSON.stringify(created.body)}`);
      const session = await callRetrying<{ token: string }>("POST", "/sessions", { body: { username, password } });
      if (session.status !== 200) throw new Error(`log-in: ${session.status} ${JSON.stringify(session.body)}`);
      const id = createdBefore
        ? (await call<{ id: number }>("GET", "/me", { token: session.body.token })).body.id
        : created.body.id;
      return { id, token: session.body.token } satisfies User;
    },
  );
  return exactly(users, n, "users signed up");
}

async function adminToken(): Promise<string> {
  const body = { username: topology.api.admin.username, password: testSecretValue("adminPassword") };
  const session = await callRetrying<{ token: string }>("POST", "/sessions", { body });
  if (session.status !== 200) throw new Error(`admin log-in: ${session.status} ${JSON.stringify(session.body)}`);
  return session.body.token;
}

/** A sale open now for an hour, one unit per user, created by the administrator; its id. */
async function createSale(name: string, stock: number): Promise<number> {
  const sale = await call<{ id: number }>("POST", "/admin/flash-sales", {
    token: await adminToken(),
    body: {
      name,
      priceCents: 990,
      stock,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
  });
  if (sale.status !== 201) throw new Error(`create sale: ${sale.status} ${JSON.stringify(sale.body)}`);
  return sale.body.id;
}

beforeAll(async () => {
  await removeLabelled(docker, OWNER);
  // The program in a process of its own, as `pulumi up` runs a program.
  deployed = await runFixture("docker-target.fixture.ts", [JSON.stringify(OVERRIDES)], 20 * 60_000);
  if (deployed.code !== 0 || !deployed.record.created)
    throw new Error(
      `the deployment failed (exit ${deployed.code}):\n${(deployed.stdout + deployed.stderr).slice(-6000)}`,
    );
  const containers = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${ENGINE_TEST_LABEL}=${OWNER}`] }),
  });
  const running = containers.filter((c) => c.State === "running");
  process.stdout.write(
    `  docker target: nothing to healthy in ${deployed.seconds.toFixed(0)} s (image builds included: ` +
      `cold or from the layer cache); ${running.length} containers running, ` +
      `${containers.length - running.length} one-shot jobs exited\n`,
  );
}, 25 * 60_000);

afterAll(async () => {
  if (!keep) await removeLabelled(docker, OWNER);
}, 120_000);

describe("the Docker target deployed on the real Engine", () => {
  it("deploys with no failed registration or job, and exports the URLs on 127.0.0.1", () => {
    expect(deployed.record.failures ?? []).toEqual([]);
    expect(deployed.record.outputs).toMatchObject({
      apiUrl: `http://127.0.0.1:${PUBLIC_PORT}/api/v1/`,
      prometheusUrl: `http://127.0.0.1:${ADMIN_PORT}/`,
    });
  });

  it("answers health through nginx, every dependency up", async () => {
    const health = await call<{ status: string }>("GET", "/health");
    expect(health).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("signs a user up, logs in, and serves the profile (cached) to that user", async () => {
    const [user] = await signUp(1, "dt");
    const me = await call<{ id: number }>("GET", "/me", { token: user.token });
    expect(me).toMatchObject({ status: 200, body: { id: user.id } });
    const first = await call("GET", `/users/${user.id}/profile`, { token: user.token });
    const second = await call("GET", `/users/${user.id}/profile`, { token: user.token });
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(await call("GET", "/me")).toMatchObject({ status: 401, body: { error: "unauthorized" } });
  });

  it("offloads the published catalog: the API writes it, the sidecars carry it through the bucket, nginx serves it", async () => {
    const admin = await adminToken();
    const sku = `DT-${randomUUID().slice(0, 8).toUpperCase()}`;
    const product = await call("POST", "/admin/products", {
      token: admin,
      body: { sku, name: "Docker target product", priceCents: 1234 },
    });
    expect(product.status).toBe(201);
    const published = await call<{ version: string; manifestUrl: string; catalogUrl: string }>(
      "POST",
      "/admin/catalog/publish",
      { token: admin },
    );
    expect([200, 201]).toContain(published.status);
    const staticUrl = (u: string) => `http://127.0.0.1:${PUBLIC_PORT}${new URL(u, "http://x").pathname}`;
    // The edge volume follows the bucket within a few sync passes (2 s each).
    const catalog = await eventually(
      async () => {
        const res = await fetch(staticUrl(published.body.catalogUrl)).catch(() => undefined);
        return res?.status === 200 ? await res.text() : undefined;
      },
      60_000,
      "the catalog served from the edge",
    );
    expect(catalog).toContain(sku);
    // The publisher uploads the content-hashed catalog before the manifest that names it, so the
    // edge may serve the catalog a pass before the manifest (CI saw a 404 here once).
    const manifest = await eventually(
      async () => {
        const res = await fetch(staticUrl(published.body.manifestUrl)).catch(() => undefined);
        const text = res?.status === 200 ? await res.text() : undefined;
        return text?.includes(published.body.version) ? text : undefined;
      },
      60_000,
      "the manifest naming that catalog, served from the edge",
    );
    expect(manifest).toBeDefined();
  });

  it("sells exactly the stock in a flash-sale storm, nobody over the limit, every order in MariaDB", async () => {
    const stock = 20;
    const buyers = await signUp(40, "fs");
    const saleId = await createSale("Docker target storm", stock);
    // Two attempts per buyer, all at once: 80 requests for 20 units.
    const attempts = buyers.flatMap((b) => [b, b]);
    const answers = await bounded(attempts, 80, (b) =>
      callRetrying<{ requestId?: string; error?: string }>("POST", `/flash-sales/${saleId}/purchases`, {
        token: b.token,
        headers: { "idempotency-key": randomUUID() },
      }),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status !== 202);
    process.stdout.write(
      `  flash sale: ${accepted.length} admitted, ${refused.length} refused, ` +
        `${answers.reduce((n, a) => n + a.retries, 0)} answers retried after a 503\n`,
    );
    expect(accepted).toHaveLength(stock);
    expect(refused.filter((a) => a.status !== 409 || !["sold_out", "limit_reached"].includes(a.body.error!))).toEqual(
      [],
    );
    // Every admitted purchase becomes exactly one order (the orders workers drain the queue).
    const orders = await eventually(
      async () => {
        const n = first(
          first(await sql(`SELECT COUNT(*) FROM orders WHERE flash_sale_id = ${saleId}`), "row"),
          "count",
        );
        return Number(n) === stock ? Number(n) : undefined;
      },
      120_000,
      "every admitted order in MariaDB",
    );
    expect(orders).toBe(stock);
    const maxPerUser = await maxOrdersPerUser(saleId);
    expect(Number(maxPerUser)).toBe(1);
    // A 503 with Retry-After while the background reconciler holds the sale: asked again, as a client does.
    const reconciliation = await callRetrying("GET", `/admin/flash-sales/${saleId}/reconciliation`, {
      token: await adminToken(),
    });
    expect(reconciliation).toMatchObject({ status: 200, body: { drift: 0, orders: stock, mysqlConsistent: true } });
  });

  it("splits a red packet exactly among a grab storm, money conserved in the ledger", async () => {
    const [creator, ...grabbers] = await signUp(31, "rp");
    const admin = await adminToken();
    const amountCents = 10_000;
    const topUp = await call("POST", `/admin/users/${creator.id}/credits`, {
      token: admin,
      body: { amountCents },
      headers: { "idempotency-key": randomUUID() },
    });
    expect(topUp.status).toBe(201);
    const packet = await callRetrying<{ id: string }>("POST", "/red-packets", {
      token: creator.token,
      body: { amountCents, count: 20, expiresInSeconds: 600 },
      headers: { "idempotency-key": randomUUID() },
    });
    expect(packet.status).toBe(201);
    // The answer's id is the packet's reference (<number>.<secret>); the number keys its rows.
    const ref = packet.body.id;
    const packetId = Number(ref.split(".")[0]);
    const grabs = await bounded(grabbers, 30, (g) =>
      callRetrying<{ amountCents?: number; error?: string }>("POST", `/red-packets/${ref}/grabs`, { token: g.token }),
    );
    const won = grabs.filter((g) => g.status === 200);
    expect(won).toHaveLength(20);
    expect(won.reduce((sum, g) => sum + g.body.amountCents!, 0)).toBe(amountCents);
    // Everyone else is told the packet is empty (410), nothing else.
    expect(grabs.filter((g) => g.status !== 200 && !(g.status === 410 && g.body.error === "empty"))).toEqual([]);
    // Every part persisted, and every balance change a ledger row (the service's own check).
    await eventually(
      async () => {
        const [n, total] = first(
          await sql(
            `SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM red_packet_grabs WHERE packet_id = ${packetId}`,
          ),
          "row",
        );
        return Number(n) === 20 && Number(total) === amountCents ? true : undefined;
      },
      120_000,
      "every grab persisted",
    );
    const conservation = await call("GET", "/admin/ledger/conservation", { token: admin });
    expect(conservation).toMatchObject({ status: 200, body: { imbalanceCents: 0, accountsMismatched: 0 } });
  });
});

/** A runbook as on-call runs it on a Docker host: exec'd in the `runbooks` container, `--target docker`. */
async function runbook(name: string, ...args: string[]): Promise<{ code: number; out: string; seconds: number }> {
  const started = Date.now();
  const r = await execRaw("runbooks", ["node", "dist/runbooks/main.js", name, "--target", "docker", ...args]);
  return { code: r.code, out: r.all, seconds: (Date.now() - started) / 1000 };
}

const isRunning = async (name: string) => (await docker.getContainer(name).inspect()).State.Running;
const drills: string[] = [];
const timed = (what: string, seconds: number) => drills.push(`${what} ${seconds.toFixed(1)} s`);
afterAll(() => {
  if (drills.length) process.stdout.write(`  drills on the Docker target: ${drills.join("; ")}\n`);
});

describe("the runbooks with --target docker on the real Engine", () => {
  it("status reads every container through the Engine API and every store over the network", async () => {
    const { code, out, seconds } = await runbook("status");
    timed("status", seconds);
    expect(out).toMatch(/ok: process worker-orders-1: running/);
    expect(out).toMatch(/ok: mysql-primary: read_only=0/);
    expect(out).toMatch(/ok: mysql-replica-1: IO Yes, SQL Yes/);
    expect(out).toMatch(/ok: redis cluster/);
    const problems = out.split("\n").filter((l) => /^\s+PROBLEM:/.test(l));
    // A fresh deployment may still have an alert pending from its start-up (a target not yet scraped).
    expect(problems.filter((l) => !/PROBLEM: alerts firing:/.test(l))).toEqual([]);
    expect(code).toBe(problems.length === 0 ? 0 : 1);
  });

  it("queue-drain --start-workers starts a stopped orders worker's container again", async () => {
    await docker.getContainer("worker-orders-1").stop();
    const fix = await eventually(
      async () => {
        const r = await runbook("queue-drain", "--start-workers", "--apply", "--yes", "--wait-seconds", "60");
        // The management API's consumer counts lag by its stats interval: ask until it has seen the stop.
        return /done\s+start worker-orders-1/.test(r.out) ? r : undefined;
      },
      60_000,
      "queue-drain starting worker-orders-1",
    );
    timed("queue-drain", fix.seconds);
    expect(fix.out).toMatch(/ok: queue orders consumed again/);
    expect(await isRunning("worker-orders-1")).toBe(true);
  });

  it("scale-api has the autoscaler's Docker actuator start a slot, which nginx's upstream then lists", async () => {
    const up = await runbook("scale-api", "--replicas", "3", "--apply", "--yes");
    if (up.code !== 0) throw new Error(`scale-api exited ${up.code}:\n${up.out}`);
    timed("scale-api 2→3", up.seconds);
    await eventually(async () => ((await isRunning("api-3")) ? true : undefined), 120_000, "api-3 running");
    const upstream = async () =>
      [...(await execIn("nginx", ["cat", "/etc/nginx/floodgate/api-upstream.conf"])).matchAll(/server (\S+)/g)].length;
    await eventually(async () => ((await upstream()) === 3 ? true : undefined), 120_000, "nginx listing 3 slots");
    const down = await runbook("scale-api", "--replicas", "2", "--apply", "--yes");
    if (down.code !== 0) throw new Error(`scale-api exited ${down.code}:\n${down.out}`);
    await eventually(async () => ((await upstream()) === 2 ? true : undefined), 120_000, "nginx listing 2 slots");
    await eventually(async () => ((await isRunning("api-3")) ? undefined : true), 120_000, "api-3 stopped");
    expect((await call("GET", "/health")).status).toBe(200);
  });

  it("backs MariaDB up into the bucket and lists the backup with verified checksums", async () => {
    const backup = await runbook("backup-now", "--kind", "mysql", "--apply", "--yes");
    if (backup.code !== 0) throw new Error(`backup-now exited ${backup.code}:\n${backup.out}`);
    timed("backup-now", backup.seconds);
    const list = await runbook("restore", "--list");
    expect(list.out).toMatch(/mysql-\d{8}T\d{9}Z .* yes \(sha256\)/);
    expect(list.code).toBe(0);
    const plan = await runbook("restore", "latest", "--into", "in-place");
    expect(plan.out).toMatch(/ok: files of mysql-\S+: 1 files match the sha256 in the manifest/);
    expect(plan.out).toMatch(/restoring mysql-\S+ in place loses everything mysql-primary committed after it/);
    expect(plan.out).toMatch(/would\s+replace database/);
    expect(plan.code).toBe(0);
    // Applied: a safety backup into the bucket first, the reload over the network, both servers checked.
    const id = present(/files of (mysql-\S+):/.exec(plan.out)?.[1], "the backup id in the plan");
    const done = await runbook("restore", id, "--into", "in-place", "--apply", "--yes");
    if (done.code !== 0) throw new Error(`restore in place exited ${done.code}:\n${done.out}`);
    timed("restore in place", done.seconds);
    expect(done.out).toMatch(/ok: safety backup: mysql-\S+ at GTID/);
    expect(done.out).toMatch(new RegExp(`ok: mysql-primary matches ${id}`));
    expect(done.out).toMatch(new RegExp(`ok: mysql-replica-1 matches ${id}`));
    expect(done.out).toMatch(/ok: mysql-primary writable again/);
    expect((await runbook("restore", "--list")).out).toMatch(/ok: MariaDB backups: 2 listed/);
    expect((await call("GET", "/health")).status).toBe(200);
  });

  it("mysql-replica restarts a replica's stopped SQL thread", async () => {
    await execIn(
      "mysql-replica-1",
      ["mariadb", "--no-defaults", "-uroot", "-e", "STOP SLAVE SQL_THREAD"],
      [`MYSQL_PWD=${testSecretValue("mysqlRootPassword")}`],
    );
    const fix = await runbook("mysql-replica", "--apply", "--yes");
    expect(fix.out).toMatch(/done\s+START SLAVE on mysql-replica-1/);
    expect(fix.code).toBe(0);
  });

  it("refuses a missing stack file with exit code 2", async () => {
    const missing = await runbook("status", "--stack-file", "/nonexistent/stack.json");
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/\/nonexistent\/stack.json: no such file/);
  });

  it("cache counts the profiles the API cached in Redis, flushes them (a second flush has nothing to do), warms the catalog", async () => {
    const [user] = await signUp(1, "cache");
    expect((await call("GET", "/me", { token: user.token })).status).toBe(200);
    const held = async (key: string) => (await redisCli("redis-1", "-c", "exists", key)).trim() === "1";
    const profile = `c:{profile:${user.id}}`;
    await eventually(async () => ((await held(profile)) ? true : undefined), 10_000, "the profile cached in Redis");

    const counted = await runbook("cache", "--namespace", "profile");
    expect(Number(/ok: namespace profile: (\d+) entries/.exec(counted.out)?.[1])).toBeGreaterThanOrEqual(1);
    expect(counted.code).toBe(0);
    const flushed = await runbook("cache", "--namespace", "profile", "--flush", "--apply", "--yes");
    if (flushed.code !== 0) throw new Error(`cache --flush exited ${flushed.code}:\n${flushed.out}`);
    timed("cache --flush", flushed.seconds);
    expect(flushed.out).toMatch(/done\s+flush profile: unlink its [1-9]\d* entries/);
    expect(await held(profile)).toBe(false);
    const again = await runbook("cache", "--namespace", "profile", "--flush", "--apply", "--yes");
    expect(again.out).toMatch(/ok: flush profile: nothing cached in Redis/);
    expect(again.out).not.toMatch(/done\s/);
    expect(again.code).toBe(0);

    // Warmed through the services' own read path, from the runbooks container, with the app's settings.
    const warmed = await runbook("cache", "--namespace", "catalog", "--flush", "--warm", "--apply", "--yes");
    if (warmed.code !== 0) throw new Error(`cache --warm exited ${warmed.code}:\n${warmed.out}`);
    timed("cache --flush --warm", warmed.seconds);
    expect(warmed.out).toMatch(/ok: warmed catalog: [1-9]\d* products/);
    expect(await held("c:{catalog:all}")).toBe(true);
    expect((await call("GET", "/me", { token: user.token })).status).toBe(200);
  });

  /** The Redis nodes' containers (redis-1…), each with its role now. */
  const redisRoles = async () =>
    Promise.all(
      Array.from({ length: OVERRIDES.topology.redis.masters * 2 }, async (_, i) => {
        const name = `redis-${i + 1}`;
        return { name, role: first((await redisCli(name, "role")).split("\n"), "role line").trim() };
      }),
    );

  it("redis-cluster reports a killed Redis master down, and --rejoin starts it once its replica took over; a second run does nothing", async () => {
    const victim = (await redisRoles()).find((n) => n.role === "master")!.name;
    await docker.getContainer(victim).kill();
    const down = await runbook("redis-cluster");
    expect(down.out).toMatch(new RegExp(`PROBLEM: ${victim} \\(.*\\): down`));
    expect(down.code).toBe(1);
    // Until a replica serves the victim's slots the runbook refuses to start it (stale data): ask again.
    const fix = await eventually(
      async () => {
        const r = await runbook("redis-cluster", "--rejoin", "--apply", "--yes");
        return /done\s+start/.test(r.out) ? r : undefined;
      },
      120_000,
      `redis-cluster --rejoin starting ${victim}`,
    );
    timed("redis-cluster --rejoin", fix.seconds);
    expect(fix.out).toMatch(new RegExp(`done\\s+start ${victim}`));
    expect(fix.out).toMatch(/ok: masters: 3 of 3/);
    expect(fix.out).toMatch(/ok: replicas linked: 3 of 3/);
    expect(fix.code).toBe(0);
    expect(await isRunning(victim)).toBe(true);
    expect((await redisRoles()).find((n) => n.name === victim)!.role).toBe("slave"); // back behind its successor
    const again = await runbook("redis-cluster", "--rejoin", "--apply", "--yes");
    expect(again.out).not.toMatch(/done\s/);
    expect(again.code).toBe(0);
  });

  it("redis-cluster --failover hands a master's slots to its replica, which the old master then follows", async () => {
    const master = (await redisRoles()).find((n) => n.role === "master")!.name;
    const dry = await runbook("redis-cluster", "--failover", master);
    const replica = new RegExp(`would: CLUSTER FAILOVER on (redis-\\d+), taking over ${master}'s slots`).exec(
      dry.out,
    )?.[1];
    expect(replica).toBeDefined();
    const run = await runbook("redis-cluster", "--failover", master, "--apply", "--yes");
    if (run.code !== 0) throw new Error(`redis-cluster --failover exited ${run.code}:\n${run.out}`);
    timed("redis-cluster --failover", run.seconds);
    expect(run.out).toMatch(new RegExp(`done\\s+CLUSTER FAILOVER on ${replica}`));
    expect(run.out).toMatch(new RegExp(`ok: ${master} follows it: role slave`));
    const roles = Object.fromEntries((await redisRoles()).map((n) => [n.name, n.role]));
    expect([roles[master], roles[replica!]]).toEqual(["slave", "master"]);
    // Again: the node is no master now, so there is nothing to hand over.
    const again = await runbook("redis-cluster", "--failover", master, "--apply", "--yes");
    expect(again.out).toMatch(
      new RegExp(`PROBLEM: ${master} has a replica to fail over to: ${master} is not a master`),
    );
    expect(again.out).not.toMatch(/done\s/);
    expect((await runbook("redis-cluster")).code).toBe(0);
  });

  it("fails MariaDB over after `docker kill` of the primary: nothing committed is lost, the old primary rejoins", async () => {
    await sql(
      "CREATE DATABASE IF NOT EXISTS failover_probe; CREATE TABLE IF NOT EXISTS failover_probe.t (id INT PRIMARY KEY); " +
        "DELETE FROM failover_probe.t; INSERT INTO failover_probe.t SELECT seq FROM seq_1_to_100",
    );
    const onReplica = async () =>
      Number(first(first(await sql("SELECT COUNT(*) FROM failover_probe.t", "mysql-replica-1"), "row"), "count"));
    await eventually(async () => ((await onReplica()) === 100 ? true : undefined), 30_000, "the replica caught up");
    await docker.getContainer("mysql-primary").kill();
    const fix = await runbook("mysql-failover", "--apply", "--yes");
    if (fix.code !== 0) throw new Error(`mysql-failover exited ${fix.code}:\n${fix.out}`);
    timed("mysql-failover", fix.seconds);
    expect(fix.out).toMatch(/ok: mysql-replica-1 holds every committed transaction/);
    expect(fix.out).toMatch(/done\s+promote mysql-replica-1/);
    expect(fix.out).toMatch(/ok: mysql-replica-1 follows mysql-primary/);
    // The promoted data serves at the primary's name, writable, with every row; the API writes again.
    expect(await sql("SELECT @@read_only, (SELECT COUNT(*) FROM failover_probe.t)")).toEqual([["0", "100"]]);
    await sql("INSERT INTO failover_probe.t VALUES (101)");
    await eventually(async () => ((await onReplica()) === 101 ? true : undefined), 60_000, "the old primary following");
    const [user] = await signUp(1, "after_failover");
    expect(user.id).toBeGreaterThan(0);
    await sql("DROP DATABASE failover_probe");
  });
});

/** redis-cli as the admin user on `node`'s own port (read from its redis.conf), the password from the environment. */
const redisCli = (node: string, ...args: string[]) =>
  execIn(
    node,
    [
      "sh",
      "-c",
      'exec redis-cli --no-auth-warning --user admin -p "$(sed -n "s/^port //p" /etc/redis/floodgate/redis.conf)" "$@"',
      "redis-cli",
      ...args,
    ],
    [`REDISCLI_AUTH=${testSecretValue("redisAdminPassword")}`],
  );

/** The most orders any one user has in a sale (the per-user limit is 1). */
async function maxOrdersPerUser(saleId: number): Promise<string> {
  const rows = await sql(
    `SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM orders WHERE flash_sale_id = ${saleId} GROUP BY user_id) t`,
  );
  return first(first(rows, "row"), "max");
}

/**
 * The stack as chaos sees it: the Docker Target of the stack file the program gave the runbooks
 * container, its engine this machine's (as `docker` here), its addresses on the private network —
 * which this host routes to (the engine runs here).
 */
async function dockerStack(): Promise<Target> {
  const text = await execIn("runbooks", ["cat", STACK_FILE_PATH]);
  return targetOfFile(parseStackFile(JSON.parse(text), `the runbooks container's ${STACK_FILE_PATH}`), true);
}

describe("chaos on the Docker target", () => {
  it("sells no more than the stock, and loses no admitted order, when the sale's Redis master is killed mid-storm", async () => {
    const stock = 30;
    const buyers = await signUp(60, "chaos");
    const saleId = await createSale("Docker target chaos", stock);
    // The chaos run's own fault, through the Docker Target: the master is found by the cluster's word.
    const target = await dockerStack();
    const key = `{fs:${saleId}}:stock`;
    const victim = await masterOfKey(target, key);
    const storm = bounded(buyers, 25, async (b, i) => {
      await new Promise((r) => setTimeout(r, i * 40)); // spread over ~2.4 s, so the kill lands mid-storm
      return callRetrying<{ requestId?: string; error?: string }>("POST", `/flash-sales/${saleId}/purchases`, {
        token: b.token,
        headers: { "idempotency-key": randomUUID() },
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await redisMasterKill.inject(target, key);
    const answers = await storm;
    const admitted = answers.filter((a) => a.status === 202);
    process.stdout.write(
      `  chaos: killed ${victim} (the sale's master) mid-storm; ${admitted.length} admitted of ${stock}, ` +
        `${answers.reduce((n, a) => n + a.retries, 0)} answers retried after a 503, storm ended ` +
        `${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill\n`,
    );
    // Every answer is an admission, a clean refusal, or (its retries exhausted) a 503: never a 500.
    expect(answers.filter((a) => ![202, 409, 503].includes(a.status))).toEqual([]);
    expect(admitted.length).toBeLessThanOrEqual(stock);
    // Every admitted request becomes exactly one order; nobody over the limit; Redis and MariaDB agree.
    await eventually(
      async () => {
        const n = first(
          first(await sql(`SELECT COUNT(*) FROM orders WHERE flash_sale_id = ${saleId}`), "row"),
          "count",
        );
        return Number(n) === admitted.length ? true : undefined;
      },
      120_000,
      "every admitted order in MariaDB",
    );
    const maxPerUser = await maxOrdersPerUser(saleId);
    expect(Number(maxPerUser)).toBeLessThanOrEqual(1);
    const reconciliation = await eventually(
      async () => {
        const r = await call<{ drift: number }>("GET", `/admin/flash-sales/${saleId}/reconciliation`, {
          token: await adminToken(),
        });
        return r.status === 200 && r.body.drift === 0 ? r : undefined;
      },
      60_000,
      "reconciliation without drift",
    );
    expect(reconciliation.body).toMatchObject({ drift: 0, orders: admitted.length });
    // The killed node comes back (as its replica's replica) and the cluster is whole again. The engine
    // leaves a killed container stopped (to it, a kill is a manual stop): start it as on-call would.
    await target.control.start(victim);
    await eventually(
      async () =>
        /cluster_state:ok/.test(await redisCli(victim, "cluster", "info").catch(() => "")) ? true : undefined,
      120_000,
      `${victim} back in a healthy cluster`,
    );
    await redisMasterKill.recover(target); // every master with its replica linked, as after a chaos run
  }, 300_000);
});

describe("secrets on the Docker target", () => {
  it("are in no container's log and not in what the deployment printed", async () => {
    const secrets = SECRET_NAMES.map(testSecretValue);
    const containers = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${ENGINE_TEST_LABEL}=${OWNER}`] }),
    });
    const leaks: string[] = [];
    for (const c of containers) {
      const raw = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true })) as unknown as Buffer;
      const text = demuxLogs(raw).all;
      for (const s of secrets) if (text.includes(s)) leaks.push(`${c.Names[0]}: ${s}`);
    }
    const printed = deployed.stdout.trim().split("\n").slice(0, -1).join("\n") + deployed.stderr;
    for (const s of secrets) if (printed.includes(s)) leaks.push(`the deployment's output: ${s}`);
    expect(containers.length).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });
});
