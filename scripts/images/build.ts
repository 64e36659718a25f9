// Builds images/Dockerfile's targets one after another through the Engine API (the legacy builder:
// no BuildKit frontend to pull), each tagged floodgate/<component>:<tag>; the layer cache makes an
// unchanged target a few seconds' no-op. Blast radius: images in the local Engine.
import { stripVTControlCharacters } from "node:util";
import type Docker from "dockerode";
import { buildContext } from "./context";
import { localImage, type ImageComponent } from "./components";

/** One target's build: its image, how long it took and whether every step came from the cache. */
export interface BuildResult {
  component: string;
  image: string;
  seconds: number;
  cached: boolean;
}

/** What a build needs besides the Engine. */
export interface BuildOptions {
  repoRoot: string;
  tag: string;
  /** Build arguments for every target (BASE_IMAGE, the package pins). */
  args: Record<string, string>;
  /** Build arguments only the services target needs (where Node comes from); asked for only when it is built. */
  servicesArgs: () => Promise<Record<string, string>>;
  log: (m: string) => void;
  /** Every line the builder prints, e.g. to stream it with --verbose. */
  onOutput?: (line: string) => void;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** One build through the Engine API: a context (tar stream), its Dockerfile, target, tag and arguments. */
export interface EngineBuild {
  context: NodeJS.ReadableStream;
  dockerfile: string;
  target: string;
  image: string;
  buildargs: Record<string, string>;
  onOutput?: (line: string) => void;
}

/**
 * Run one build with the legacy builder and wait for it; a failed step throws with the builder's
 * last 30 lines. Returns whether any step ran (false: every step came from the cache).
 */
export async function engineBuild(docker: Docker, b: EngineBuild): Promise<{ ran: boolean }> {
  const stream = await docker.buildImage(b.context, {
    dockerfile: b.dockerfile,
    target: b.target,
    t: b.image,
    buildargs: b.buildargs,
    rm: true,
    forcerm: true,
    version: "1",
  });
  const lines: string[] = [];
  let ran = false;
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: BuildEvent) => {
        if (event.error) {
          reject(new Error(`${b.image}: ${event.errorDetail?.message ?? event.error}\n${lines.slice(-30).join("\n")}`));
          return;
        }
        // The builder colours a step's stderr; the escapes would only clutter an error message.
        const text = stripVTControlCharacters(event.stream ?? "");
        for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
          if (/^ ---> Running in /.test(line)) ran = true;
          lines.push(line);
          b.onOutput?.(line);
        }
      },
    ),
  );
  return { ran };
}

/** Build one target and wait for the builder to finish; a failed step throws with its last lines. */
export async function buildTarget(docker: Docker, c: ImageComponent, o: BuildOptions): Promise<BuildResult> {
  const image = localImage(c.name, o.tag);
  const started = Date.now();
  const buildargs = { ...o.args, ...(c.name === "services" ? await o.servicesArgs() : {}) };
  const { ran } = await engineBuild(docker, {
    context: buildContext(o.repoRoot, c.name),
    dockerfile: "images/Dockerfile",
    target: c.name,
    image,
    buildargs,
    onOutput: o.onOutput,
  });
  const seconds = (Date.now() - started) / 1000;
  o.log(`${image} built in ${seconds.toFixed(1)} s${ran ? "" : " (all cached)"}`);
  return { component: c.name, image, seconds, cached: !ran };
}

/**
 * Build each component in turn; stops at the first failure. Never in parallel: building the services
 * image beside the others made the whole longer on this 2-core machine (cold: 3 min 43 s in turn,
 * 4 min 16 s with the services image in a lane of its own, which took 225 s instead of 120 s).
 */
export async function buildImages(
  docker: Docker,
  components: ImageComponent[],
  o: BuildOptions,
): Promise<BuildResult[]> {
  const results: BuildResult[] = [];
  for (const c of components) results.push(await buildTarget(docker, c, o));
  return results;
}
