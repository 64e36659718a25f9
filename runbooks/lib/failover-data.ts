/**
 * The two things mysql-failover does to MariaDB data rather than through SQL, per target:
 * read what a stopped primary's binary log committed, and swap two stopped servers' data so the
 * promoted one serves at the primary's address. On the local stack the data directories are
 * folders of the state folder; on Docker they are named volumes the runbooks container cannot see,
 * so one-shot containers from its own image mount them. Kubernetes has no equivalent (a pod cannot
 * count on mounting two servers' ReadWriteOnce volumes): the runbook refuses there.
 */
import fs from "node:fs";
import path from "node:path";
import { formatGtidPos, lastCommittedInBinlog, parseGtidPos, type GtidPos } from "./gtid";
import type { RunbookStack } from "./stack";

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
 * Swap the contents of volumes $A and $B through $P (all on one Docker host: moves are renames),
 * refusing if $P is not empty (an interrupted swap: its data must be put back by hand). Index files
 * are rewritten to name their logs relative to the datadir ("./mariadb-bin.000007"), which MariaDB
 * reads wherever the datadir is.
 */
export const SWAP_SCRIPT = `set -eu
for d in "$A" "$B" "$P"; do [ -d "$d" ] || { echo "$d is not mounted" >&2; exit 2; }; done
if [ -n "$(ls -A "$P")" ]; then echo "$P holds the data of an interrupted swap: put it back by hand (runbooks/MysqlDown.md)" >&2; exit 3; fi
find "$A" -mindepth 1 -maxdepth 1 -exec mv -t "$P" {} +
find "$B" -mindepth 1 -maxdepth 1 -exec mv -t "$A" {} +
find "$P" -mindepth 1 -maxdepth 1 -exec mv -t "$B" {} +
for f in "$A"/*.index "$B"/*.index; do if [ -e "$f" ]; then sed -i 's#^.*/#./#' "$f"; fi; done`;

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
  // This file, run by node in the one-shot container: the image holds the same compiled runbooks.
  const gtidCli = path.join(__dirname, `gtid${path.extname(__filename)}`);
  const node = path.extname(__filename) === ".ts" ? [process.execPath, "--import", "tsx"] : [process.execPath];
  return {
    where: (name) => `volume ${volume(name)}`,
    lastCommitted: async (name) => {
      const at = `${MOUNT}/${volume(name)}`;
      const r = await docker.engine.run({
        name: "mysql-failover-binlog",
        image: await image(),
        command: [...node, gtidCli, at],
        binds: [`${volume(name)}:${at}:ro`],
        user: "0",
      });
      checked(`reading ${name}'s binary log`, r);
      const text = r.stdout.trim();
      return text === formatGtidPos(new Map()) ? new Map() : parseGtidPos(text);
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
