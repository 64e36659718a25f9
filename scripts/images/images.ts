// Every component's image from images/Dockerfile, end to end: a Docker Engine that answers, the base
// image (debootstrapped when absent), then each target built in turn with the host's package pins.
import type Docker from "dockerode";
import { ensureBaseImage } from "./base-image";
import { buildImages, type BuildResult } from "./build";
import { nodeArgs, pinArgs } from "./build-args";
import { selectComponents } from "./components";
import { ensureEngine } from "./engine";

/** What to build and where to say so. */
export interface MakeImagesOptions {
  repoRoot: string;
  base: string;
  tag: string;
  /** Component names; all when absent. */
  only?: string[];
  log: (m: string) => void;
  onOutput?: (line: string) => void;
}

/** Ensure an Engine and the base image, then build the selected images; returns the Engine's client and each build. */
export async function makeImages(o: MakeImagesOptions): Promise<{ docker: Docker; results: BuildResult[] }> {
  const components = selectComponents(o.only);
  const docker = await ensureEngine(o.log);
  await ensureBaseImage(docker, o.base, o.log);
  const args = { BASE_IMAGE: o.base, ...(await pinArgs(o.log)) };
  const results = await buildImages(docker, components, {
    repoRoot: o.repoRoot,
    tag: o.tag,
    args,
    servicesArgs: () => nodeArgs(o.repoRoot),
    log: o.log,
    onOutput: o.onOutput,
  });
  return { docker, results };
}
