import { present } from "./checked";
import { containerCreateOptions, STAND_IN_MODULES, standInCreateOptions } from "./engine-provider";

// The object store's stand-in mapping (pure); the real-engine test runs it
// (test/docker/object-store-standin.docker.test.ts).

const STAND_IN = {
  image: "chrislusf/seaweedfs:3.80",
  runImage: "floodgate/services:int-test",
  hostModules: "/repo/node_modules",
  port: 8333,
};

/** A bucket container's inputs as the Docker program gives them. */
const buildBucketInputs = () => ({
  name: "bucket",
  image: "object-store-stand-in:chrislusf/seaweedfs:3.80",
  command: ["server", "-dir=/data", "-s3", "-s3.config=/etc/seaweedfs/s3.json"],
  memory: 512,
  memorySwap: 512,
  cpus: "1",
  restart: "unless-stopped",
  volumes: [{ volumeName: "bucket-data", containerPath: "/data" }],
  networksAdvanced: [{ name: "fg-net", aliases: ["bucket"], ipv4Address: "10.0.0.9" }],
  healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:9333/cluster/status"], interval: "10s" },
});

describe("the object store's stand-in", () => {
  const original = containerCreateOptions(buildBucketInputs(), STAND_IN.runImage, "t");
  const standIn = standInCreateOptions(buildBucketInputs(), STAND_IN, "t");

  it("keeps the container's name, network, alias, address, limits and restart policy", () => {
    expect(standIn.name).toBe("bucket");
    expect(standIn.NetworkingConfig).toEqual(original.NetworkingConfig);
    expect(standIn.NetworkingConfig?.EndpointsConfig?.["fg-net"]).toEqual({
      Aliases: ["bucket"],
      IPAMConfig: { IPv4Address: "10.0.0.9" },
    });
    const { Mounts: _, ...rest } = standIn.HostConfig!;
    const { Mounts: __, ...originalRest } = original.HostConfig!;
    expect(rest).toEqual(originalRest);
  });

  it("runs s3rver from the host's node_modules (read-only) on every interface, its data in the volume", () => {
    expect(standIn.Image).toBe(STAND_IN.runImage);
    expect(standIn.Cmd?.slice(0, 2)).toEqual(["node", "-e"]);
    const script = present(standIn.Cmd?.[2], "the stand-in's script");
    expect(script).toContain(`require("${STAND_IN_MODULES}/s3rver")`);
    const options = JSON.parse(present(/new S3rver\((\{.*?\})\)/.exec(script)?.[1], "the S3rver options"));
    expect(options).toEqual({ address: "0.0.0.0", port: 8333, directory: "/data", silent: false, vhostBuckets: false });
    expect(standIn.HostConfig?.Mounts).toEqual([
      { Type: "volume", Source: "bucket-data", Target: "/data", ReadOnly: false },
      { Type: "bind", Source: "/repo/node_modules", Target: STAND_IN_MODULES, ReadOnly: true },
    ]);
    expect(standIn.User).toBe("root");
  });

  it("probes the S3 port with node instead of the object store's own check, keeping its timings", () => {
    expect(standIn.Healthcheck?.Test?.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
    expect(standIn.Healthcheck?.Test?.[3]).toContain('fetch("http://127.0.0.1:8333/")');
    expect(standIn.Healthcheck?.Interval).toBe(original.Healthcheck?.Interval);
  });
});
