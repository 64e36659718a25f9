import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { DockerActuator } from "./docker-actuator";

// No Docker daemon runs here: a unix-socket HTTP server stands in for the Engine API's three calls
// (inspect, start, stop) and records what the actuator asked. Unverified against real Docker.
function fakeDocker(running: Record<string, boolean>) {
  const socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "docker-")), "docker.sock");
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const m = /^\/containers\/([^/]+)\/(json|start|stop)/.exec(req.url ?? "");
    const name = m && decodeURIComponent(m[1]);
    if (!m || !name || !(name in running)) return void res.writeHead(404).end('{"message":"no such container"}');
    if (m[2] === "json") return void res.writeHead(200).end(JSON.stringify({ State: { Running: running[name] } }));
    const target = m[2] === "start";
    const status = running[name] === target ? 304 : 204;
    running[name] = target;
    res.writeHead(status).end();
  });
  return new Promise<{ socketPath: string; calls: string[]; close: () => void }>((resolve) =>
    server.listen(socketPath, () => resolve({ socketPath, calls, close: () => server.close() })),
  );
}

describe("DockerActuator", () => {
  it("counts the running prefix of the slots and starts the next ones in order", async () => {
    const state = { "api-1": true, "api-2": true, "api-3": false, "api-4": false };
    const docker = await fakeDocker(state);
    const actuator = new DockerActuator(Object.keys(state), docker.socketPath);
    expect(await actuator.running()).toBe(2);
    await actuator.scaleTo(4);
    expect(state).toEqual({ "api-1": true, "api-2": true, "api-3": true, "api-4": true });
    expect(docker.calls.filter((c) => c.startsWith("POST"))).toEqual([
      "POST /containers/api-3/start",
      "POST /containers/api-4/start",
    ]);
    docker.close();
  });

  it("stops the last slots first, with a stop timeout", async () => {
    const state = { "api-1": true, "api-2": true, "api-3": true };
    const docker = await fakeDocker(state);
    await new DockerActuator(Object.keys(state), docker.socketPath).scaleTo(1);
    expect(docker.calls.filter((c) => c.startsWith("POST"))).toEqual([
      "POST /containers/api-3/stop?t=15",
      "POST /containers/api-2/stop?t=15",
    ]);
    docker.close();
  });

  it("reports a container Docker does not know", async () => {
    const docker = await fakeDocker({});
    await expect(new DockerActuator(["api-9"], docker.socketPath).running()).rejects.toThrow(
      "docker inspect api-9: HTTP 404",
    );
    docker.close();
  });
});
