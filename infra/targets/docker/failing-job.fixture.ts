import fs from "node:fs";
import { buildDeployConfig } from "../../../test/support/deploy-config";
import { jobOutcomes, recordResources, recorded, settle } from "../../../test/support/pulumi-mocks";

/**
 * Runs the Docker program under Pulumi's mocks as its own process, the way the language host runs
 * it for `pulumi up`: an unhandled rejection ends the process with the error. Usage:
 * `node --import tsx failing-job.fixture.ts <container> <exit code> <its logs>`.
 * Prints the created containers' names as JSON on exit, however the run ended.
 */
async function main(): Promise<void> {
  await recordResources("docker");
  const [job, exitCode, logs] = process.argv.slice(2);
  if (job) jobOutcomes.set(job, { exitCode: Number(exitCode), containerLogs: logs ?? "" });
  process.on("exit", () => {
    const names = recorded.filter((r) => r.type === "docker:index/container:Container").map((r) => r.inputs.name);
    fs.writeSync(1, `${JSON.stringify({ containers: names })}\n`);
  });
  // Imported only now: the program must find the mocks set.
  const { deployDocker } = await import("./index.js");
  // Long enough for a loaded machine: a failing job rejects this well before.
  const url = await settle(deployDocker(buildDeployConfig("docker")).apiUrl, 90_000);
  fs.writeSync(1, `${JSON.stringify({ apiUrl: url })}\n`);
}

void main();
