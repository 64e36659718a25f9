import { TARGET_TOPOLOGY_DEFAULTS } from "./config";
import { dockerAddresses } from "./targets/docker/addresses";
import { containerSize, type ContainerRole } from "./targets/docker/container-spec";
import { dockerRabbitmqConf } from "./targets/docker/rabbitmq";
import { kubernetesAddresses } from "./targets/kubernetes/addresses";
import { kubernetesRabbitmqConf } from "./targets/kubernetes/mounted-files";
import { sizeOf, type Workload } from "./targets/kubernetes/pod-spec";
import { MEMORY_ROLES, memoryLimitMb, MIB, parseTopology, type TopologyInput } from "./topology";

// Both targets size each role from the one memory table, and what the software inside is told to
// use follows from that limit: RabbitMQ's watermark here.

/** The roles both targets run. */
const SHARED_ROLES = MEMORY_ROLES.filter(
  (r): r is ContainerRole & Workload => r !== "sidecar" && r !== "autoscaler" && r !== "runbooks",
);

const TOPOLOGIES: Array<[string, TopologyInput]> = [
  ["the local defaults", {}],
  ["the Docker stack's defaults", TARGET_TOPOLOGY_DEFAULTS.docker],
  ["the Kubernetes stack's defaults", TARGET_TOPOLOGY_DEFAULTS.kubernetes],
  [
    "large stores and a large broker",
    {
      mysql: { bufferPoolMb: 16_384, maxConnections: 2000 },
      redis: { maxMemoryMb: 8192 },
      rabbitmq: { memoryLimitMb: 8192 },
    },
  ],
];

/** The absolute watermark a rabbitmq.conf sets, in bytes; fails on a relative one or none. */
function watermarkBytes(conf: string): number {
  expect(conf).not.toMatch(/^vm_memory_high_watermark\.relative/m);
  const match = /^vm_memory_high_watermark\.absolute = (\d+)$/m.exec(conf);
  if (!match) throw new Error(`no absolute memory watermark in:\n${conf}`);
  return Number(match[1]);
}

describe.each(TOPOLOGIES)("memory limits with %s", (_label, input) => {
  const t = parseTopology(input);

  it.each(SHARED_ROLES)("gives %s the same limit on Docker and Kubernetes", (role) => {
    expect({ docker: containerSize(role, t).memoryMb, kubernetes: sizeOf(t, role).memoryMi[1] }).toEqual({
      docker: memoryLimitMb(t, role),
      kubernetes: memoryLimitMb(t, role),
    });
  });

  it.each([
    ["Docker", () => dockerRabbitmqConf(t, dockerAddresses(t)), () => containerSize("rabbitmq", t).memoryMb],
    [
      "Kubernetes",
      () => kubernetesRabbitmqConf(t, kubernetesAddresses(t, { namespace: "fg" })),
      () => sizeOf(t, "rabbitmq").memoryMi[1],
    ],
  ])("throttles RabbitMQ on %s at an absolute watermark with room below its limit", (_target, conf, limitMb) => {
    const bytes = watermarkBytes(conf());
    const limitBytes = limitMb() * MIB;

    // Room for what the Erlang VM allocates past the alarm, yet not so low that publishers stall early.
    expect({ belowLimit: bytes < limitBytes * 0.7, overHalf: bytes > limitBytes * 0.5 }).toEqual({
      belowLimit: true,
      overHalf: true,
    });
  });
});
