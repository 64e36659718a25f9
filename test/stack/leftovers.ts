/**
 * What a stopped local stack may have left behind, read from /proc (Linux, as the local stack):
 * live processes of a process group, of a list of pids, or whose command line, working directory
 * or environment names a state folder; and listening TCP ports.
 */
import fs from "node:fs";

interface ProcInfo {
  pid: number;
  pgid: number;
  state: string;
}

function procInfo(pid: number): ProcInfo | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // After the command name: state, ppid, pgrp… ("?" like describeProcess, should a line ever be short).
    const [state = "?", , pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pid, pgid: Number(pgid), state };
  } catch {
    return null; // gone
  }
}

const read = (file: string) => {
  try {
    return fs.readFileSync(file, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
};

/** A process as a report line: pid, state and command line. */
export function describeProcess(pid: number): string {
  return `${pid} (${procInfo(pid)?.state ?? "?"}): ${read(`/proc/${pid}/cmdline`).trim()}`;
}

/** Every live process but this one; zombies have exited (nobody may reap them in a container). */
function liveProcesses(): ProcInfo[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .flatMap((e) => procInfo(Number(e)) ?? [])
    .filter((p) => p.state !== "Z");
}

/** Whether a process names `dir` in its command line, working directory or environment. */
function mentions(pid: number, dir: string): boolean {
  let cwd = "";
  try {
    cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    // gone, or not ours to read
  }
  return (
    cwd === dir ||
    cwd.startsWith(`${dir}/`) ||
    read(`/proc/${pid}/cmdline`).includes(dir) ||
    read(`/proc/${pid}/environ`).includes(dir)
  );
}

/** Listening TCP ports (IPv4 and IPv6) among `ports`. */
export function listeningPorts(ports: Iterable<number>): number[] {
  const wanted = new Set(ports);
  const found = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of read(table).split("\n").slice(1)) {
      const [, local = "", , state] = line.trim().split(/\s+/);
      if (state !== "0A") continue; // 0A: LISTEN (undefined on a short line)
      const port = parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
      if (wanted.has(port)) found.add(port);
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** Everything still running or listening of one run: by process group, recorded pid, state folder and port. */
export function leftovers(run: { pgid: number; pids: Iterable<number>; stateDir: string; ports: number[] }): string[] {
  const pids = new Set(run.pids);
  const processes = liveProcesses()
    .filter((p) => p.pgid === run.pgid || pids.has(p.pid) || mentions(p.pid, run.stateDir))
    .map((p) => `process ${describeProcess(p.pid)}`);
  return [...processes, ...listeningPorts(run.ports).map((port) => `port ${port} listening`)];
}
