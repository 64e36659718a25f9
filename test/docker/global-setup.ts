import { DEFAULT_BASE_IMAGE, ensureBaseImage } from "../../scripts/images/base-image";
import { ensureEngine } from "../../scripts/images/engine";

/**
 * The docker project's set-up: a Docker Engine that answers (docker.io installed and dockerd
 * started when missing) and the base image (made by debootstrap when absent), so `npm run
 * test:docker` needs nothing installed or started beforehand.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const log = (m: string) => process.stdout.write(`  [docker +${((Date.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
  process.stdout.write("\n");
  const docker = await ensureEngine(log);
  await ensureBaseImage(docker, process.env.FLOODGATE_BASE_IMAGE ?? DEFAULT_BASE_IMAGE, log);
  log("engine and base image ready");
}
