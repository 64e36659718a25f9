/**
 * The two things mysql-failover does to MariaDB data rather than through SQL, per target:
 * read what a stopped primary's binary log committed, and swap two stopped servers' data so the
 * promoted one serves at the primary's address. On the local stack the data directories are
 * folders of the state folder. On Docker they are named volumes and on Kubernetes
 * PersistentVolumeClaims, which the runbooks container cannot see: one-shot containers or pods from
 * the app image mount them (on Kubernetes both claims in one pod, so both must be attachable to one
 * node — with node-local storage on different nodes the scheduler says so and the runbook stops).
 * A Docker volume is the datadir itself; on Kubernetes the datadir is a folder in the claim, and the
 * pods run as its owner — both as the stack file says (kubernetes.mariadbData).
 */
import fs from "node:fs";
import path from "node:path";
import { formatGtidPos, lastCommittedInBinlog, parseGtidPos, type GtidPos } from "./gtid";
import type { KubernetesControl } from "../../infra/targets/kubernetes/control";
import type { RunbookStack } from "./stack";
import type { MariadbData } from "../../infra/targets/stack-file";

export interface FailoverData {
  /** Where the server's data lives, for messages. */
  where(name: string): string;
  /** What the stopped server `name` committed last, from its binary log. */
  lastCommitted(name: string): Promise<GtidPos>;
  /** Swap the data of two stopped servers. */
  swap(a: string, b: string): Promise<void>;
}

/** The failover's data operations on this stack's target; undefined where there are none (Kubernetes). */
export function failoverData(stack: RunbookStack): FailoverData | undefined {
  if (stack.kubernetes) return kubernetesData(stack.kubernetes);
  if (stack.local) {
    const dir = (name: string) => path.join(stack.local!.layout.dir(name), "data");
    return {
      where: dir,
      lastCommitted: (name) => lastCommittedInBinlog(dir(name)),
      swap: async (a, b) => swapDataDirs(dir(a), dir(b)),
    };
  }
  if (stack.docker) return dockerData(stack.docker);
  return undefined;
}

/**
 * Swap two data directories (both servers stopped). Binary and relay log index files name their
 * logs by absolute path, so entries under the old folder are rewritten to the new one.
 */
function swapDataDirs(dirA: string, dirB: string): void {
  const parked = `${dirA}.failover`;
  fs.renameSync(dirA, parked);
  fs.renameSync(dirB, dirA);
  fs.renameSync(parked, dirB);
  const repoint = (dir: string, from: string) => {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".index"))) {
      const file = path.join(dir, f);
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").split(`${from}/`).join(`${dir}/`));
    }
  };
  repoint(dirA, dirB);
  repoint(dirB, dirA);
}

/** Where one-shot containers mount volumes. */
const MOUNT = "/volumes";
/** The named volume that holds one side's data while two volumes swap; empty between failovers. */
export const PARKING_VOLUME = "mysql-failover-parking";

/**
 * Swap the contents of datadirs $A and $B through the parking folder $P, outside both — a volume of
 * its own on Docker (one host: moves are renames), a folder beside the datadir in $A's claim on
 * Kubernetes — refusing if $P is not empty (an interrupted swap: its data must be put back by hand).
 * A file system's lost+found (the root of a Docker volume, which is the datadir) stays where it is.
 * Index files are rewritten to name their logs relative to the datadir ("./mariadb-bin.000007"),
 * which MariaDB reads wherever the datadir is mounted.
 */
export const SWAP_SCRIPT = `set -eu
for d in "$A" "$B"; do [ -d "$d" ] || { echo "$d is not there: volume not mounted, or no datadir in it" >&2; exit 2; }; done
mkdir -p "$P"
if [ -n "$(ls -A "$P")" ]; then echo "$P holds the data of an interrupted swap: put it back by hand (runbooks/MysqlDown.md)" >&2; exit 3; fi
find "$A" -mindepth 1 -maxdepth 1 ! -name lost+found -exec mv -t "$P" {} +
find "$B" -mindepth 1 -maxdepth 1 ! -name lost+found -exec mv -t "$A" {} +
find "$P" -mindepth 1 -maxdepth 1 -exec mv -t "$B" {} +
for f in "$A"/*.index "$B"/*.index; do if [ -e "$f" ]; then sed -i 's#^.*/#./#' "$f"; fi; done`;

/** The parking folder at the root of $A's claim, beside its datadir, on Kubernetes (no third claim to provision). */
export const K8S_PARKING = ".failover-parking";

/** `node …/gtid.js`: the app image holds the same compiled runbooks as the one running this. */
function gtidCommand(): string[] {
  const cli = path.join(__dirname, `gtid${path.extname(__filename)}`);
  return path.extname(__filename) === ".ts" ? [process.execPath, "--import", "tsx", cli] : [process.execPath, cli];
}

/** A GTID position as the gtid CLI prints it, found in its output or its pod's log. */
export const parsePrinted = (text: string): GtidPos => {
  // A pod's log has stderr in it too: the position is the last line that is one.
  const empty = formatGtidPos(new Map());
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .reverse()
    .find((l) => l === empty || /^\d+-\d+-\d+(,\d+-\d+-\d+)*$/.test(l));
  if (line === undefined) throw new Error(`no GTID position in: ${text.trim().slice(-500)}`);
  return line === empty ? new Map() : parseGtidPos(line);
};

/** What the Kubernetes data operations use: the API's pod calls, the app image, MariaDB's layout and each server's claim. */
export interface KubernetesDataArgs {
  control: Pick<KubernetesControl, "runPod" | "nodeOf">;
  image?: string;
  mariadbData?: MariadbData;
  volumes: Record<string, string>;
}

/** The failover's data operations on Kubernetes: one-shot pods from the app image, as the data's owner. */
export function kubernetesData(k: KubernetesDataArgs): FailoverData {
  const claim = (name: string) => {
    const v = k.volumes[name];
    if (!v) throw new Error(`the stack file names no PersistentVolumeClaim for ${name}`);
    return v;
  };
  const image = () => {
    if (!k.image) throw new Error("the stack file names no image for one-shot pods (kubernetes.image)");
    return k.image;
  };
  const layout = () => {
    if (!k.mariadbData)
      throw new Error("the stack file names no MariaDB data owner and folder (kubernetes.mariadbData): run pulumi up");
    return k.mariadbData;
  };
  const root = (name: string) => `${MOUNT}/${claim(name)}`;
  const datadir = (name: string) => path.posix.join(root(name), layout().dir);
  const runAs = () => ({ uid: layout().uid, gid: layout().gid });
  return {
    where: (name) => `claim ${claim(name)}`,
    lastCommitted: async (name) => {
      const r = await k.control.runPod({
        name: "mysql-failover-binlog",
        image: image(),
        command: [...gtidCommand(), datadir(name)],
        claims: { [root(name)]: claim(name) },
        readOnly: true,
        runAs: runAs(),
        // A crash-looping server's pod keeps its claim attached to its node: read beside it.
        nodeName: await k.control.nodeOf(name),
      });
      if (!r.succeeded) throw new Error(`reading ${name}'s binary log: ${r.log.trim()}`);
      return parsePrinted(r.log);
    },
    swap: async (a, b) => {
      const r = await k.control.runPod({
        name: "mysql-failover-swap",
        image: image(),
        command: ["sh", "-c", SWAP_SCRIPT],
        claims: { [root(a)]: claim(a), [root(b)]: claim(b) },
        env: { A: datadir(a), B: datadir(b), P: `${root(a)}/${K8S_PARKING}` },
        runAs: runAs(),
      });
      if (!r.succeeded) throw new Error(`swapping ${claim(a)} and ${claim(b)}: ${r.log.trim()}`);
    },
  };
}

function dockerData(docker: NonNullable<RunbookStack["docker"]>): FailoverData {
  const volume = (name: string) => {
    const v = docker.volumes[name];
    if (!v) throw new Error(`the stack file names no volume for ${name}`);
    return v;
  };
  const image = () => docker.engine.imageOf(docker.container);
  const checked = (what: string, r: { exitCode: number; stderr: string }) => {
    if (r.exitCode !== 0) throw new Error(`${what}: exit ${r.exitCode}: ${r.stderr.trim()}`);
  };
  return {
    where: (name) => `volume ${volume(name)}`,
    lastCommitted: async (name) => {
      const at = `${MOUNT}/${volume(name)}`;
      const r = await docker.engine.run({
        name: "mysql-failover-binlog",
        image: await image(),
        command: [...gtidCommand(), at],
        binds: [`${volume(name)}:${at}:ro`],
        user: "0",
      });
      checked(`reading ${name}'s binary log`, r);
      return parsePrinted(r.stdout);
    },
    swap: async (a, b) => {
      const [A, B, P] = [volume(a), volume(b), PARKING_VOLUME].map((v) => `${MOUNT}/${v}`);
      const r = await docker.engine.run({
        name: "mysql-failover-swap",
        image: await image(),
        command: ["sh", "-c", SWAP_SCRIPT],
        binds: [`${volume(a)}:${A}`, `${volume(b)}:${B}`, `${PARKING_VOLUME}:${P}`],
        env: { A, B, P },
        user: "0",
      });
      checked(`swapping ${volume(a)} and ${volume(b)}`, r);
    },
  };
}
