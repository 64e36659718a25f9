import { parseTopology } from "../topology";
import { resources, sizeOf, type Workload } from "./pod-spec";

const WORKLOADS: Workload[] = [
  "nginx",
  "api",
  "worker",
  "tracker",
  "job",
  "mysql",
  "redis",
  "rabbitmq",
  "bucket",
  "prometheus",
  "alertmanager",
  "exporter",
  "sidecar",
];

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

    it("gives MariaDB room beyond its buffer pool", () => {
      expect(sizeOf(t, "mysql").memoryMi[0]).toBeGreaterThan(t.mysql.bufferPoolMb);
      expect(sizeOf(t, "mysql").memoryMi[1]).toBeGreaterThanOrEqual(t.mysql.bufferPoolMb * 1.5);
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
