import {
  memoryLimitMb,
  MIB,
  parseTopology,
  RABBITMQ_WATERMARK_SHARE,
  rabbitmqWatermarkBytes,
  type MemoryRole,
  type Topology,
  type TopologyInput,
} from ".";
import { topologyProblems as problemsOf } from "../../test/support/topology-problems";

const buildTopology = (input: TopologyInput = {}): Topology => parseTopology(input);

describe("memoryLimitMb", () => {
  it.each<[string, TopologyInput, number]>([
    // ceil(256 · 1.1) + 384 + 500 connections = 1166, up to 1216
    ["the default pool and connections", {}, 1216],
    // ceil(1024 · 1.1) + 384 + 500 = 2011, up to 2048: the Docker and Kubernetes stacks' default
    ["a 1 GiB pool", { mysql: { bufferPoolMb: 1024 } }, 2048],
    ["a 1 GiB pool and 100 connections", { mysql: { bufferPoolMb: 1024, maxConnections: 100 } }, 1664],
    ["a 4 GiB pool", { mysql: { bufferPoolMb: 4096 } }, 5440],
  ])("gives MariaDB with %s a limit its pool, server and connections fit in", (_, input, limitMb) => {
    expect(memoryLimitMb(buildTopology(input), "mysql")).toBe(limitMb);
  });

  it.each([16, 256, 1000, 8192, 65_536])(
    "grows MariaDB's limit with a %i MiB buffer pool, never short of it and its overhead",
    (bufferPoolMb) => {
      for (const maxConnections of [10, 500, 5000]) {
        const t = buildTopology({ mysql: { bufferPoolMb, maxConnections } });
        const needMb = bufferPoolMb * 1.1 + 384 + maxConnections;
        const limitMb = memoryLimitMb(t, "mysql");

        expect({ maxConnections, fits: limitMb >= needMb, roundedUpOnly: limitMb - needMb < 64 }).toEqual({
          maxConnections,
          fits: true,
          roundedUpOnly: true,
        });
      }
    },
  );

  it.each([
    [16, 192],
    [256, 640],
    [512, 1152],
    [1000, 2176],
  ])("gives Redis with maxmemory %i MiB room for a fork's copy of it: %i MiB", (maxMemoryMb, limitMb) => {
    const t = buildTopology({ redis: { maxMemoryMb } });

    expect(memoryLimitMb(t, "redis")).toBe(limitMb);
    expect(limitMb).toBeGreaterThanOrEqual(2 * maxMemoryMb + 128);
  });

  it("gives RabbitMQ the topology's limit", () => {
    expect(memoryLimitMb(buildTopology(), "rabbitmq")).toBe(2048);
    expect(memoryLimitMb(buildTopology({ rabbitmq: { memoryLimitMb: 3000 } }), "rabbitmq")).toBe(3000);
  });

  it.each<[MemoryRole, number]>([
    ["api", 1024],
    ["worker", 512],
    ["tracker", 512],
    ["autoscaler", 256],
    ["job", 512],
    ["backups", 1024],
    ["runbooks", 512],
    ["nginx", 512],
    ["bucket", 512],
    ["prometheus", 2048],
    ["alertmanager", 256],
    ["exporter", 128],
    ["sidecar", 128],
  ])("gives %s %i MiB whatever the stores are given", (role, limitMb) => {
    const big = buildTopology({ mysql: { bufferPoolMb: 8192 }, redis: { maxMemoryMb: 4096 } });

    expect([memoryLimitMb(buildTopology(), role), memoryLimitMb(big, role)]).toEqual([limitMb, limitMb]);
  });
});

describe("rabbitmqWatermarkBytes", () => {
  it.each([
    [512, 322_122_547],
    [2048, 1_288_490_188],
    [4096, 2_576_980_377],
  ])("throttles a broker limited to %i MiB at %i bytes, 0.6 of its limit", (memoryLimitMb, bytes) => {
    const t = buildTopology({ rabbitmq: { memoryLimitMb } });

    expect(rabbitmqWatermarkBytes(t)).toBe(bytes);
    expect(bytes / (memoryLimitMb * MIB)).toBeCloseTo(RABBITMQ_WATERMARK_SHARE, 8);
  });

  it.each([
    [256, /^rabbitmq\.memoryLimitMb = 256: /],
    [1.5, /^rabbitmq\.memoryLimitMb = 1\.5: /],
  ])("refuses a broker limit of %j MiB, naming the field and the value", (memoryLimitMb, message) => {
    expect(problemsOf({ rabbitmq: { memoryLimitMb } })).toEqual([expect.stringMatching(message)]);
  });
});
