// npm run images — every component's image built from Debian's packages (images/Dockerfile), and
// with --push, pushed for Kubernetes. Starts a Docker Engine (installing docker.io) when none
// answers and debootstraps the base image when it is absent. Blast radius: local images, and with
// --push the given tags in that registry.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_BASE_IMAGE } from "./base-image";
import { COMPONENTS, pushedImage, selectComponents } from "./components";
import { makeImages } from "./images";
import { pushImages, type PushResult } from "./push";

const repoRoot = path.resolve(__dirname, "..", "..");
const packageVersion = () =>
  (JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

const HELP = `usage: npm run images -- [options]

Builds every component's image from images/Dockerfile on a Debian base, each Debian package pinned
to the version installed here (the local stack's), as floodgate/<component>:<tag>:
  ${COMPONENTS.map((c) => c.name).join(" ")}
The object store (SeaweedFS) is the one image Debian does not package: it stays a pinned upstream
image (infra/config.ts) and is not built here. Unchanged images come from the layer cache.

  --tag T            the images' tag (default: package.json's version, ${packageVersion()})
  --push REGISTRY    also tag each as REGISTRY/floodgate-<component>:T and push it (credentials
                     from ~/.docker/config.json when it has them), e.g. --push registry.example:5000/team
  --base IMAGE       the base image (default ${DEFAULT_BASE_IMAGE}; debootstrapped when absent)
  --only NAMES       comma-separated components to build (default: all)
  --verbose          print the builder's output
  -h, --help         this text

Exit status: 0 when every image was built (and pushed), 1 when one was not, 2 on a usage error.`;

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9._-]+)*$/;
const IMAGE = /^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:\d{1,5}\/[a-z0-9._/-]+)?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

function options() {
  const { values } = parseArgs({
    options: {
      tag: { type: "string", default: packageVersion() },
      push: { type: "string" },
      base: { type: "string", default: DEFAULT_BASE_IMAGE },
      only: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (!TAG.test(values.tag)) throw new Error(`--tag ${values.tag}: not a valid image tag`);
  if (values.push !== undefined && !REGISTRY.test(values.push)) {
    throw new Error(`--push ${values.push}: expected a registry host[:port][/path], without a scheme`);
  }
  if (!IMAGE.test(values.base)) throw new Error(`--base ${values.base}: not a valid image name`);
  const only = values.only?.split(",").map((s) => s.trim());
  selectComponents(only); // an unknown name is a usage error
  return { ...values, only };
}

async function main(): Promise<number> {
  let o;
  try {
    o = options();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const log = (m: string) => process.stdout.write(`[images] ${m}\n`);
  const started = Date.now();
  try {
    // Check, Plan, Apply: an Engine, the base, then each image in turn.
    const { docker, results } = await makeImages({
      repoRoot,
      base: o.base,
      tag: o.tag,
      only: o.only,
      log,
      onOutput: o.verbose ? (line) => process.stdout.write(`  ${line}\n`) : undefined,
    });
    let pushed: PushResult[] = [];
    if (o.push) pushed = await pushImages(docker, results, o.push, o.tag, log);
    // Verify: the summary.
    const rows = results.map((r) => {
      const p = pushed.find((x) => x.component === r.component);
      return `  ${r.image.padEnd(36)} ${`${r.seconds.toFixed(1)} s`.padStart(8)}  ${r.cached ? "cached" : "built "}${p ? `  pushed ${p.image} in ${p.seconds.toFixed(1)} s` : ""}`;
    });
    process.stdout.write(`\n${rows.join("\n")}\n\n`);
    log(`${results.length} images in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (o.push) log(`pushed as ${pushedImage(o.push, "<component>", o.tag)}`);
    return 0;
  } catch (err) {
    process.stderr.write(`[images] FAILED: ${(err as Error).message}\n`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[images] FAILED: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
