// Makes sure a Docker Engine answers on this machine: installs Debian's docker.io when dockerd is
// missing and starts dockerd in the background (no systemd here) when its socket does not answer.
// Blast radius: installs a package and leaves a dockerd running for everyone on the machine.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { $ } from "zx";

/** The Engine's Unix socket (dockerd's default). */
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** Where a dockerd started here logs. */
export const DOCKERD_LOG = "/var/log/dockerd.log";

/** How long a freshly started dockerd gets to answer. */
const START_TIMEOUT_MS = 60_000;

const onPath = (command: string) =>
  (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && fs.existsSync(path.join(dir, command)));

/** Whether the Engine on `socketPath` answers a ping. */
export async function engineAnswers(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

async function waitForEngine(docker: Docker, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await engineAnswers(docker)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Install docker.io from Debian's archive (as root, or through sudo). */
async function installDockerIo(log: (m: string) => void): Promise<void> {
  log("dockerd is missing: apt-get install -y docker.io");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await $({ env, stdio: ["ignore", "ignore", "inherit"] })`${sudo} apt-get update -q`;
  await $({ env, stdio: ["ignore", "ignore", "inherit"] })`${sudo} apt-get install -y -q docker.io`;
}

/** Start dockerd detached, so it outlives this process; its log goes to DOCKERD_LOG. */
function startDockerd(log: (m: string) => void): void {
  log(`starting dockerd (log: ${DOCKERD_LOG})`);
  const out = fs.openSync(DOCKERD_LOG, "a");
  const child = spawn("dockerd", [], { detached: true, stdio: ["ignore", out, out] });
  child.unref();
  fs.closeSync(out);
}

/**
 * A client of a Docker Engine that answers: the one on DOCKER_HOST's or the default socket, or,
 * when none answers, a dockerd started here (docker.io installed first if dockerd is missing).
 */
export async function ensureEngine(log: (m: string) => void = () => undefined): Promise<Docker> {
  // Check
  const docker = new Docker({ socketPath: DOCKER_SOCKET });
  if (await engineAnswers(docker)) return docker;
  // Apply
  if (!onPath("dockerd")) await installDockerIo(log);
  // Another session may have started one meanwhile (a second dockerd would refuse its pid file anyway).
  if (!(await waitForEngine(docker, 1_000))) startDockerd(log);
  // Verify
  if (!(await waitForEngine(docker, START_TIMEOUT_MS))) {
    throw new Error(
      `dockerd did not answer on ${DOCKER_SOCKET} within ${START_TIMEOUT_MS / 1000} s: see ${DOCKERD_LOG}`,
    );
  }
  const info = (await docker.info()) as { ServerVersion?: string; Driver?: string };
  log(`Docker Engine ${info.ServerVersion} (${info.Driver}) answers on ${DOCKER_SOCKET}`);
  return docker;
}
