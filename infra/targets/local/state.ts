import fs from "node:fs";
import type { Topology } from "../../topology";

/** What a running stack records so `status`, `stop` and `logs` work from another terminal. */
export interface StackState {
  ownerPid: number;
  root: string;
  startedAt: string;
  epmdPort: number;
  /** The topology the stack runs (local secrets included), so runbooks act on what is running. */
  topology?: Topology;
  /** The owner's control socket (infra/targets/local/control.ts): runbooks stop and start processes through it. */
  controlSocket?: string;
  processes: StateProcess[];
}

/** One process of a running stack, with what another process needs to stop it as its owner would. */
export interface StateProcess {
  name: string;
  pid: number;
  address: string;
  logFile: string;
  /** Start-up phase: later phases stop first (absent in state files of older versions). */
  phase?: number;
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
}

/** Read the state file, or null when there is none. */
export function readState(file: string): StackState | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as StackState;
  } catch {
    return null;
  }
}

/** Write the state file atomically. */
export function writeState(file: string, state: StackState): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}
