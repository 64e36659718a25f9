import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { IMAGE_USERS } from "../../infra/config";
import { kubernetesAddresses } from "../../infra/targets/kubernetes/addresses";
import { PATHS } from "../../infra/targets/kubernetes/context";
import { MARIADB_PATHS } from "../../infra/targets/kubernetes/mounted-files";
import { kubernetesStackFile } from "../../infra/targets/kubernetes/runbooks";
import { $ } from "zx";
import { parseTopology } from "../../infra/topology";
import { failoverData, PARKING, parsePrinted, SWAP_SCRIPT } from "./failover-data";
import { formatGtidPos } from "./gtid";
import type { KubernetesControl, OneShotPod } from "../../infra/targets/kubernetes/control";
import { kubernetesTarget } from "../../infra/targets/kubernetes/target";
import { fileVolumes, parseStackFile } from "../../infra/targets/stack-file";
import { first, present } from "../../test/support/checked";

describe("parsePrinted (the gtid CLI's answer, from a container's stdout or a pod's log)", () => {
  it("reads the position even when stderr lines follow it, as in a pod's log", () => {
    expect(formatGtidPos(parsePrinted("0-2-41,1-1-7\n(node:1) Warning: something\n"))).toBe("0-2-41,1-1-7");
  });

  it("reads an empty binary log as no position", () => {
    expect(parsePrinted("(empty)\n").size).toBe(0);
  });

  it("says what it got when no line is a position", () => {
    expect(() => parsePrinted("mariadb-binlog: cannot open\n")).toThrow(
      /no GTID position in: mariadb-binlog: cannot open/,
    );
  });
});

// The Kubernetes API cannot run here: a recorder stands in for runPod (KubernetesControl's own tests
// cover the pod it posts). Everything else is the deployment's stack file, parsed as the runbook
// does, and the Kubernetes target's runDataJob.
function buildKubernetesData(over: { mariadbData?: undefined } = {}) {
  const topology = parseTopology({});
  const written = kubernetesStackFile(
    topology,
    kubernetesAddresses(topology, { namespace: "fg" }),
    "fg",
    "root-pw",
    {},
    "registry.example/floodgate-services:1",
  );
  const file = parseStackFile(JSON.parse(JSON.stringify(written)));
  const kubernetes = { ...file.kubernetes!, ...over };
  const pods: OneShotPod[] = [];
  const control = {
    runPod: async (spec: OneShotPod) => {
      pods.push(spec);
      return { succeeded: true, log: "0-1-57\n" };
    },
    nodeOf: async () => "node-2",
  } as unknown as KubernetesControl;
  const volumes = fileVolumes(file);
  return { data: failoverData(kubernetesTarget({ ...file, kubernetes }, control)), pods, volumes };
}

/** The datadir's folder in the server's volume, as the MariaDB pod spec mounts the volume and names the datadir. */
const datadirInVolume = path.posix.relative(PATHS.mariadbData, MARIADB_PATHS.datadir);
const mariadbUser = { uid: IMAGE_USERS.mariadb.uid, gid: IMAGE_USERS.mariadb.gid };

describe("Kubernetes failover data (one-shot pods on the servers' claims)", () => {
  it("reads the binary log in the datadir folder of the claim, as the mariadb image's user, beside the server", async () => {
    const { data, pods, volumes } = buildKubernetesData();
    expect(formatGtidPos(await data.lastCommitted("mysql-primary"))).toBe("0-1-57");
    const pod = first(pods, "the one-shot pod");
    const [mount, claim] = first(Object.entries(pod.claims), "a claim the pod mounts");
    expect(claim).toBe(volumes["mysql-primary"]);
    expect(datadirInVolume).not.toBe("");
    expect(pod.command.at(-1)).toBe(path.posix.join(mount, datadirInVolume));
    expect(pod).toMatchObject({ readOnly: true, runAs: mariadbUser, nodeName: "node-2" });
  });

  it("swaps the two datadir folders through a parking folder beside them, as the mariadb image's user", async () => {
    const { data, pods, volumes } = buildKubernetesData();
    await data.swap("mysql-primary", "mysql-replica-1");
    const pod = first(pods, "the one-shot pod");
    const mountOf = (name: string) =>
      present(
        Object.entries(pod.claims).find(([, c]) => c === volumes[name]),
        `the pod's mount of ${name}'s claim`,
      )[0];
    const [a, b] = [mountOf("mysql-primary"), mountOf("mysql-replica-1")];
    expect(pod.env).toEqual({
      A: path.posix.join(a, datadirInVolume),
      B: path.posix.join(b, datadirInVolume),
      P: path.posix.join(a, `.${PARKING}`),
    });
    expect(pod.runAs).toEqual(mariadbUser);
  });

  it("refuses before running any pod when the stack file does not say whose data it is and where", async () => {
    const { data, pods } = buildKubernetesData({ mariadbData: undefined });
    await expect(data.lastCommitted("mysql-primary")).rejects.toThrow(/kubernetes\.mariadbData/);
    expect(pods).toHaveLength(0);
  });
});

// SWAP_SCRIPT run by sh on folders laid out as each target's volumes are.
describe("SWAP_SCRIPT", () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "failover-swap-"))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A datadir holding `server`'s files, its index naming its binlog by absolute path as the rendered cnf does. */
  function buildDatadir(dir: string, server: string): void {
    fs.mkdirSync(path.join(dir, "floodgate"), { recursive: true });
    fs.writeFileSync(path.join(dir, "floodgate", "owner.txt"), server);
    fs.writeFileSync(path.join(dir, "mariadb-bin.000007"), server);
    fs.writeFileSync(path.join(dir, "mariadb-bin.index"), `${MARIADB_PATHS.datadir}/mariadb-bin.000007\n`);
  }
  /** Runs SWAP_SCRIPT with sh, as the one-shot container does; rejects with its stderr when it fails. */
  const swap = async (env: Record<string, string>) => {
    const r = await $({ env: { PATH: process.env.PATH, ...env }, quiet: true, nothrow: true })`sh -c ${SWAP_SCRIPT}`;
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr}`);
  };
  const owner = (dir: string) => fs.readFileSync(path.join(dir, "floodgate", "owner.txt"), "utf8");

  it("on Kubernetes claims: swaps the datadir folders' contents and leaves each claim's lost+found", async () => {
    const [claimA, claimB] = [path.join(root, "a"), path.join(root, "b")];
    for (const [claim, server] of [
      [claimA, "primary"],
      [claimB, "replica"],
    ] as const) {
      fs.mkdirSync(path.join(claim, "lost+found"), { recursive: true });
      fs.writeFileSync(path.join(claim, "lost+found", "#123"), claim);
      buildDatadir(path.join(claim, datadirInVolume), server);
    }
    const [A, B] = [path.join(claimA, datadirInVolume), path.join(claimB, datadirInVolume)];

    await swap({ A, B, P: path.join(claimA, `.${PARKING}`) });

    expect([owner(A), owner(B)]).toEqual(["replica", "primary"]);
    expect(fs.readFileSync(path.join(claimA, "lost+found", "#123"), "utf8")).toBe(claimA);
    expect(fs.readFileSync(path.join(claimB, "lost+found", "#123"), "utf8")).toBe(claimB);
    expect(fs.readdirSync(path.join(claimA, `.${PARKING}`))).toEqual([]);
    expect(fs.readdirSync(A).sort()).toEqual(["floodgate", "mariadb-bin.000007", "mariadb-bin.index"]);
    expect(fs.readFileSync(path.join(A, "mariadb-bin.index"), "utf8")).toBe("./mariadb-bin.000007\n");
    expect(fs.readFileSync(path.join(B, "mariadb-bin.index"), "utf8")).toBe("./mariadb-bin.000007\n");
  });

  it("on Docker volumes (each the datadir itself): swaps their contents and leaves each volume's lost+found", async () => {
    const [A, B, P] = [path.join(root, "a"), path.join(root, "b"), path.join(root, "parking")];
    buildDatadir(A, "primary");
    buildDatadir(B, "replica");
    for (const d of [A, B]) fs.mkdirSync(path.join(d, "lost+found"));
    fs.writeFileSync(path.join(A, "lost+found", "#1"), "a");
    fs.mkdirSync(P);

    await swap({ A, B, P });

    expect([owner(A), owner(B)]).toEqual(["replica", "primary"]);
    expect(fs.readFileSync(path.join(A, "lost+found", "#1"), "utf8")).toBe("a");
    expect(fs.readdirSync(path.join(B, "lost+found"))).toEqual([]);
    expect(fs.readdirSync(P)).toEqual([]);
  });

  it("refuses, moving nothing, while the parking folder holds an interrupted swap's data", async () => {
    const [A, B, P] = [path.join(root, "a"), path.join(root, "b"), path.join(root, "parking")];
    buildDatadir(A, "primary");
    buildDatadir(B, "replica");
    fs.mkdirSync(P);
    fs.writeFileSync(path.join(P, "ibdata1"), "left over");

    await expect(swap({ A, B, P })).rejects.toThrow(/holds the data of an interrupted swap/);
    expect([owner(A), owner(B)]).toEqual(["primary", "replica"]);
  });

  it("refuses when a datadir folder is missing from its claim", async () => {
    const [A, B, P] = [path.join(root, "a/data"), path.join(root, "b/data"), path.join(root, "a/.parking")];
    buildDatadir(A, "primary");
    fs.mkdirSync(path.dirname(B));

    await expect(swap({ A, B, P })).rejects.toThrow(/b\/data is not there/);
  });
});
