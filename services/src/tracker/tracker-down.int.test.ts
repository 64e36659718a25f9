import { randomBytes } from "node:crypto";
import { readState } from "../../../infra/targets/local/state";
import { eventually, getJson, testAddresses } from "../../../test/stack/clients";
import { testLayout } from "../../../test/stack/test-stack";
import { adminToken, call } from "../../../test/support/api";

const a = testAddresses();
const views = async (productId: number) =>
  (
    await getJson<{ total: number }>(
      `http://${a.tracker.host}:${a.tracker.port}/stats?type=view&subject=product:${productId}`,
    )
  ).body.total;

// The supervisor restarts a tracker that dies, so a frozen (SIGSTOP) process is what "down" means here.
function trackerPid(): number {
  const tracker = readState(testLayout().stateFile)?.processes.find((p) => p.name === "tracker");
  if (!tracker) throw new Error("the test stack runs no tracker");
  return tracker.pid;
}

describe("the API with the tracker down", () => {
  it("answers product reads unchanged and fast, and the tracker catches up on the backlog afterwards", async () => {
    const admin = await adminToken();
    const created = await call<{ id: number }>("POST", "/admin/products", {
      token: admin,
      body: { sku: `DOWN-${randomBytes(5).toString("hex")}`, name: "Tracked", priceCents: 500 },
    });
    expect(created.status).toBe(201);
    const url = `/catalog/products/${created.body.id}`;
    const before = await call("GET", url);
    expect(before.status).toBe(200);
    await eventually(async () => ((await views(created.body.id)) === 1 ? true : undefined));

    const pid = trackerPid();
    const reads = 20;
    const answers: Array<{ status: number; body: unknown; ms: number }> = [];
    process.kill(pid, "SIGSTOP");
    try {
      for (let i = 0; i < reads; i++) {
        const started = performance.now();
        const res = await call("GET", url);
        answers.push({ status: res.status, body: res.body, ms: performance.now() - started });
      }
      const health = await call("GET", "/health");
      expect(health.status).toBe(200);
    } finally {
      process.kill(pid, "SIGCONT");
    }

    for (const answer of answers) expect(answer).toEqual({ status: 200, body: before.body, ms: expect.any(Number) });
    expect(Math.max(...answers.map((x) => x.ms))).toBeLessThan(1000);
    await eventually(async () => ((await views(created.body.id)) === 1 + reads ? true : undefined), 30_000);
  });
});
