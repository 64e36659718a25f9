import path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { nodeArgs, pinArgs } from "../../../scripts/images/build-args";
import { needsSources, stageContext } from "../../../scripts/images/context";
import { IMAGE_TARGETS } from "../../config";
import type { DeployConfig, Images } from "../../deployment";

/**
 * The build arguments, asked once per process (dpkg-query, npm's registry): one process may run the
 * program several times (the tests do), and the answers do not change within it.
 */
let pinsAsked: Promise<Record<string, string>> | undefined;
const nodeAsked = new Map<string, Promise<Record<string, string>>>();
const pinned = () => (pinsAsked ??= pinArgs());
function nodeFor(repoRoot: string): Promise<Record<string, string>> {
  if (!nodeAsked.has(repoRoot)) nodeAsked.set(repoRoot, nodeArgs(repoRoot));
  return nodeAsked.get(repoRoot)!;
}

/** Where `pulumi up` stages the build contexts: under the checkout's .floodgate/ (ignored by git). */
export const contextRoot = (repoRoot: string) => path.join(repoRoot, ".floodgate", "image-context");

/**
 * The images the Docker target runs, each an id its containers follow (a rebuilt image replaces
 * them). With `buildImages`, every floodgate image is built on the Docker host from
 * images/Dockerfile under its configured name, as `npm run images` builds it: the legacy builder,
 * the base image, Debian's packages pinned to the versions installed where `pulumi up` runs (the
 * local stack's, when it runs there), Node from npm's registry for the services. docker.Image hashes
 * its context folder, so a target whose context is unchanged is not rebuilt; the server targets'
 * context is images/ alone, so a change of the services' sources rebuilds the services image only.
 * The object store (SeaweedFS, not packaged by Debian) is always pulled, pinned.
 */
export function dockerImages(cfg: DeployConfig, repoRoot: string): Record<keyof Images, pulumi.Input<string>> {
  const ids = {} as Record<keyof Images, pulumi.Input<string>>;
  const pull = (key: keyof Images) =>
    (ids[key] = new docker.RemoteImage(`image-${key}`, { name: cfg.images[key], keepLocally: true }).imageId);
  pull("objectStore");
  const built = Object.entries(IMAGE_TARGETS) as Array<[keyof typeof IMAGE_TARGETS, string]>;
  if (!cfg.buildImages) {
    for (const [key] of built) pull(key);
    return ids;
  }
  const pins = pulumi.output(pinned()).apply((p) => ({ BASE_IMAGE: cfg.baseImage, ...p }));
  const servicesArgs = pulumi.output(nodeFor(repoRoot));
  const staged = new Map<string, string>();
  const contextOf = (target: string) => {
    const kind = needsSources(target) ? "services" : "servers";
    if (!staged.has(kind)) staged.set(kind, stageContext(repoRoot, target, path.join(contextRoot(repoRoot), kind)));
    return staged.get(kind)!;
  };
  for (const [key, target] of built) {
    const context = contextOf(target);
    const image = new docker.Image(`image-${key}`, {
      imageName: cfg.images[key],
      build: {
        context,
        dockerfile: path.join(context, "images", "Dockerfile"),
        target,
        builderVersion: "BuilderV1",
        args: needsSources(target) ? pulumi.all([pins, servicesArgs]).apply(([p, s]) => ({ ...p, ...s })) : pins,
      },
      skipPush: true,
    });
    ids[key] = image.repoDigest;
  }
  return ids;
}
