// Tags each built image as <registry>/floodgate-<component>:<tag> and pushes it through the Engine
// API, with the registry's credentials from the Docker CLI's config (`docker login`) when it has
// them. Blast radius: those tags in that registry.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { pushedImage } from "./components";
import type { BuildResult } from "./build";

/** One pushed image and how long the push took. */
export interface PushResult {
  component: string;
  image: string;
  seconds: number;
}

/** The Engine's auth for `registry` from ~/.docker/config.json (`auths.<registry>.auth`), if any. */
export function registryAuth(registry: string, configFile = path.join(os.homedir(), ".docker", "config.json")) {
  if (!fs.existsSync(configFile)) return undefined;
  const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as { auths?: Record<string, { auth?: string }> };
  const encoded = config.auths?.[registry]?.auth;
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: registry };
}

/** Tag and push every built image to `registry` as `tag`; the first failure throws with the Engine's message. */
export async function pushImages(
  docker: Docker,
  built: BuildResult[],
  registry: string,
  tag: string,
  log: (m: string) => void,
): Promise<PushResult[]> {
  const auth = registryAuth(registry);
  const results: PushResult[] = [];
  for (const b of built) {
    const image = pushedImage(registry, b.component, tag);
    const repo = image.slice(0, image.lastIndexOf(":"));
    const started = Date.now();
    await docker.getImage(b.image).tag({ repo, tag });
    const stream = await docker.getImage(repo).push({ tag, ...(auth ? { authconfig: auth } : {}) });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: { error?: string }) => {
          if (event.error) reject(new Error(`push ${image}: ${event.error}`));
        },
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    log(`${image} pushed in ${seconds.toFixed(1)} s`);
    results.push({ component: b.component, image, seconds });
  }
  return results;
}
