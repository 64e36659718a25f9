import fs from "node:fs";
import type { Topology } from "../../infra/topology";

/** What a running stack records so `status`, `stop` and `logs` work from another terminal. */
export interface StackState {
  ownerPid: number;
  root: string;
  startedAt: string;
  epmdPort: number;
  /** The topology the stack runs (local secrets included), so runbooks act on what is running. */
  topology?: Topology;
  /** The owner's control socket (scripts/stack/control.ts): runbooks stop and start processes through it. */
  controlSocket?: string;
  processes: Array<{ name: string; pid: number; address: string; logFile: string }>;
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
