// What the Pulumi Docker provider does for a docker.Image with `build` and `skipPush`, done on the
// real Engine for the engine provider (its `resolveImage`): the context folder packed as it is, the
// Dockerfile, target and build arguments as the program gave them, the legacy builder, the result
// tagged `imageName`. Not reproduced: the provider's context hash (it skips an unchanged build; here
// the Engine's layer cache makes an unchanged build a no-op instead), BuildKit, pushing.
import path from "node:path";
import { Readable } from "node:stream";
import type Docker from "dockerode";
import tar from "tar-fs";
import { engineBuild } from "../../scripts/images/build";

/** The inputs of a docker.Image the engine provider is asked to create. */
interface ImageInputs {
  imageName?: string;
  build?: { context?: string; dockerfile?: string; target?: string; args?: Record<string, string> };
}

/** Builds run one at a time, as `npm run images` runs them: the machine's cores are shared. */
let queue: Promise<unknown> = Promise.resolve();

/** Build a docker.Image's inputs on the Engine (after any build already asked for); returns the image name it tagged. */
export function buildImageInputs(
  docker: Docker,
  inputs: Record<string, unknown>,
  log: (m: string) => void = () => undefined,
): Promise<string> {
  const next = queue.then(() => buildOne(docker, inputs, log));
  queue = next.catch(() => undefined);
  return next;
}

async function buildOne(
  docker: Docker,
  inputs: Record<string, unknown>,
  log: (m: string) => void = () => undefined,
): Promise<string> {
  const { imageName, build } = inputs as ImageInputs;
  if (!imageName || !build?.context) throw new Error(`docker.Image without imageName or build.context`);
  const context = build.context;
  const dockerfile = path.relative(context, path.resolve(context, build.dockerfile ?? "Dockerfile"));
  if (dockerfile.startsWith(".."))
    throw new Error(`${imageName}: the Dockerfile ${build.dockerfile} is outside ${context}`);
  const started = Date.now();
  const { ran } = await engineBuild(docker, {
    context: Readable.from(tar.pack(context)),
    dockerfile,
    target: build.target ?? "",
    image: imageName,
    buildargs: build.args ?? {},
  });
  log(`${imageName} built in ${((Date.now() - started) / 1000).toFixed(1)} s${ran ? "" : " (all cached)"}`);
  return imageName;
}
