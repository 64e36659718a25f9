import { MEMORY_ROLES, parseTopology } from "../../topology";
import { httpProbes, resources, sizeOf, type Workload } from "./pod-spec";

// Every role Kubernetes runs (all but the Docker-only autoscaler and runbooks containers).
const WORKLOADS = MEMORY_ROLES.filter((r): r is Workload => r !== "autoscaler" && r !== "runbooks");

describe("sizeOf", () => {
  describe.each([
    ["small stores", { mysql: { bufferPoolMb: 128 }, redis: { maxMemoryMb: 64 } }],
    ["large stores", { mysql: { bufferPoolMb: 8192 }, redis: { maxMemoryMb: 4096 } }],
  ])("with %s", (_label, input) => {
    const t = parseTopology(input);

    it.each(WORKLOADS)("requests no more than it limits for %s", (w) => {
      const s = sizeOf(t, w);
      expect(s.cpuMilli[0]).toBeLessThanOrEqual(s.cpuMilli[1]);
      expect(s.memoryMi[0]).toBeLessThanOrEqual(s.memoryMi[1]);
    });

    it("requests room for MariaDB's buffer pool and limits it to the pool, the server and its connections", () => {
      expect(sizeOf(t, "mysql").memoryMi[0]).toBeGreaterThan(t.mysql.bufferPoolMb);
      expect(sizeOf(t, "mysql").memoryMi[1]).toBeGreaterThanOrEqual(
        t.mysql.bufferPoolMb * 1.1 + 384 + t.mysql.maxConnections,
      );
    });

    it("gives Redis room for a fork during an AOF rewrite", () => {
      expect(sizeOf(t, "redis").memoryMi[1]).toBeGreaterThanOrEqual(t.redis.maxMemoryMb * 2);
    });
  });

  it("renders sizes in Kubernetes units", () => {
    expect(resources({ cpuMilli: [250, 1000], memoryMi: [64, 128] })).toEqual({
      requests: { cpu: "250m", memory: "64Mi" },
      limits: { cpu: "1000m", memory: "128Mi" },
    });
  });
});

describe("httpProbes", () => {
  it("probes readiness and liveness on the same path unless told otherwise", () => {
    const probes = httpProbes("/health", 8080);
    expect(probes.readinessProbe).toMatchObject({ httpGet: { path: "/health", port: 8080 } });
    expect(probes.livenessProbe).toMatchObject({ httpGet: { path: "/health", port: 8080 } });
  });

  it("probes liveness on its own path when given one, and more patiently than readiness", () => {
    const probes = httpProbes("/api/v1/health", 8101, "/api/v1/health/live");
    expect(probes.readinessProbe).toMatchObject({ httpGet: { path: "/api/v1/health", port: 8101 } });
    expect(probes.livenessProbe).toMatchObject({ httpGet: { path: "/api/v1/health/live", port: 8101 } });
    const patience = (p: { periodSeconds?: unknown; failureThreshold?: unknown }) =>
      Number(p.periodSeconds) * Number(p.failureThreshold);
    expect(patience(probes.livenessProbe as object)).toBeGreaterThan(patience(probes.readinessProbe as object));
  });
});
