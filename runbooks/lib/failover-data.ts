/**
 * The two things mysql-failover does to MariaDB data rather than through SQL: read what a stopped
 * primary's binary log committed, and swap two stopped servers' data so the promoted one serves at
 * the primary's address. Both are one-shot jobs beside the servers' data (Target.runDataJob): on the
 * local stack a command on this host with the state folder's data folders, on Docker a container
 * with the named volumes, on Kubernetes a pod with the PersistentVolumeClaims, as the data's owner.
 * The same commands on every target: the gtid CLI, and SWAP_SCRIPT.
 */
import path from "node:path";
import { formatGtidPos, parseGtidPos, type GtidPos } from "./gtid";
import type { RunbookStack } from "./stack";

export interface FailoverData {
  /** Where the server's data lives, for messages. */
  where(name: string): string;
  /** What the stopped server `name` committed last, from its binary log. */
  lastCommitted(name: string): Promise<GtidPos>;
  /** Swap the data of two stopped servers. */
  swap(a: string, b: string): Promise<void>;
}

/** The failover's data operations on this stack's target. */
export function failoverData(stack: Pick<RunbookStack, "runDataJob" | "dataOf">): FailoverData {
  return {
    where: (name) => stack.dataOf(name),
    lastCommitted: async (name) => {
      const r = await stack.runDataJob({
        name: "mysql-failover-binlog",
        data: { DATADIR: name },
        readOnly: true,
        command: (dirs) => [...gtidCommand(), dirs.DATADIR ?? ""],
      });
      if (!r.ok) throw new Error(`reading ${name}'s binary log: ${r.output.trim()}`);
      return parsePrinted(r.output);
    },
    swap: async (a, b) => {
      const r = await stack.runDataJob({
        name: "mysql-failover-swap",
        data: { A: a, B: b },
        scratch: { key: "P", name: PARKING },
        command: () => ["sh", "-c", SWAP_SCRIPT],
      });
      if (!r.ok) throw new Error(`swapping ${a}'s and ${b}'s data: ${r.output.trim()}`);
    },
  };
}

/**
 * Where one side's data waits while two swap — a folder of the state folder (local), a named volume
 * (Docker), a folder beside the datadir in A's claim (Kubernetes, ".mysql-failover-parking") — empty
 * between failovers.
 */
export const PARKING = "mysql-failover-parking";

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
