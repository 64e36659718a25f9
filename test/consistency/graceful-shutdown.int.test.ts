import { readState } from "../../infra/targets/local/state";
import { isAlive } from "../../infra/targets/local/supervisor";
import { call } from "../support/api";
import { eventually } from "../stack/clients";
import { testAddresses, testLayout } from "../stack/test-stack";
import { first } from "../support/checked";

const apiPid = (name: string) => readState(testLayout().stateFile)!.processes.find((p) => p.name === name)!.pid;

describe("graceful shutdown of an API replica", () => {
  it("drops no request through nginx when a replica is stopped with SIGTERM mid-traffic", async () => {
    const pid = apiPid("api-1");
    const statuses: number[] = [];
    let running = true;
    const clients = Array.from({ length: 8 }, async () => {
      // POSTs: nginx never retries a non-idempotent request it already sent, so a request cut off
      // mid-flight would surface as a 502 here.
      while (running)
        statuses.push((await call("POST", "/sessions", { body: { username: "nobody", password: "x" } })).status);
    });
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, "SIGTERM");
    await eventually(async () => (isAlive(pid) ? undefined : true), 20_000, 50);
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(clients);

    expect(statuses.length).toBeGreaterThan(20); // each is a (dummy) scrypt check: slow on purpose
    expect(statuses.filter((s) => s !== 401)).toEqual([]);
    // The supervisor brings the replica back (a new process), so later tests see the whole stack.
    await eventually(
      async () => {
        const next = apiPid("api-1");
        const { port } = first(testAddresses().api, "API replica api-1");
        const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => null);
        return next !== pid && health?.status === 200 ? true : undefined;
      },
      30_000,
      250,
    );
  });
});
