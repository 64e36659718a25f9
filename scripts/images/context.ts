// The build contexts of images/Dockerfile: images/ for the server targets; for the services target
// also the sources it compiles and the machine's CA bundle as build-ca.crt. `npm run images` sends
// them to the Engine as tar streams assembled in memory; `pulumi up` (docker.Image builds a
// directory) gets them staged in a folder outside git's view (.floodgate/, ignored). Either way no CA
// is ever written into the tracked tree, and none is copied into a final image.
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import tar from "tar-fs";

/** The machine's trusted CA bundle, which the TLS-inspecting proxy's certificate chains to. */
export const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** The name of the CA bundle inside the services build context (images/Dockerfile's node stage). */
export const BUILD_CA_NAME = "build-ca.crt";

/** What the server targets need: the Dockerfile and its helper scripts. */
const SERVER_ENTRIES = ["images"];

/** What the services target needs besides images/: the sources it compiles. */
const SERVICES_ENTRIES = [
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "infra/topology",
  "infra/render",
  "infra/targets",
  "services",
  "runbooks",
];

/** Tests stay out of the image, as the root .dockerignore keeps them out. */
const isTest = (name: string) => /\.test\.ts$/.test(name);

/** Whether a target needs the services sources and the CA bundle. */
export const needsSources = (target: string) => target === "services";

/**
 * A tar stream of the build context for `target`, rooted at `repoRoot`. For the services target the
 * CA bundle (`caBundle`) is added as build-ca.crt — read here, never copied into the checkout.
 */
export function buildContext(repoRoot: string, target: string, caBundle = HOST_CA_BUNDLE): Readable {
  const entries = needsSources(target) ? [...SERVER_ENTRIES, ...SERVICES_ENTRIES] : SERVER_ENTRIES;
  for (const e of entries) {
    if (!fs.existsSync(path.join(repoRoot, e))) throw new Error(`build context: ${e} is missing under ${repoRoot}`);
  }
  // tar-fs packs into a streamx stream; Readable.from makes it the Node stream the Engine client pipes.
  if (!needsSources(target)) return Readable.from(tar.pack(repoRoot, { entries, ignore: isTest }));
  const ca = fs.readFileSync(caBundle);
  const pack = tar.pack(repoRoot, {
    entries,
    ignore: isTest,
    // Fixed owner and time: the CA's layer stays cached while the bundle's content is unchanged.
    finalize: false,
    finish: (pack) => {
      pack.entry({ name: BUILD_CA_NAME, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, ca);
      pack.finalize();
    },
  });
  return Readable.from(pack);
}

/**
 * The build context for `target` staged as a folder `dir` (replaced): the same entries as
 * `buildContext`, for builders that take a directory (the Pulumi Docker provider's docker.Image,
 * which hashes it, so an unchanged context is not rebuilt). Returns `dir`.
 * Several programs may stage the same checkout at once (tests run them side by side): each
 * stages into a folder of its own and renames it into place, so none ever sees another's
 * half-copied or half-deleted folder; when another got there first, its copy of the same
 * checkout is kept.
 */
export function stageContext(repoRoot: string, target: string, dir: string, caBundle = HOST_CA_BUNDLE): string {
  const entries = needsSources(target) ? [...SERVER_ENTRIES, ...SERVICES_ENTRIES] : SERVER_ENTRIES;
  const own = `${dir}.${process.pid}.staging`;
  fs.rmSync(own, { recursive: true, force: true });
  fs.mkdirSync(own, { recursive: true });
  for (const e of entries) {
    const from = path.join(repoRoot, e);
    if (!fs.existsSync(from)) throw new Error(`build context: ${e} is missing under ${repoRoot}`);
    fs.cpSync(from, path.join(own, e), { recursive: true, filter: (f) => !isTest(path.basename(f)) });
  }
  if (needsSources(target)) fs.copyFileSync(caBundle, path.join(own, BUILD_CA_NAME));
  const old = `${dir}.${process.pid}.old`;
  try {
    fs.renameSync(dir, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  try {
    fs.renameSync(own, dir);
  } catch (err) {
    // Another process renamed its copy into place between the two renames.
    if (!["ENOTEMPTY", "EEXIST"].includes(String((err as NodeJS.ErrnoException).code))) throw err;
    fs.rmSync(own, { recursive: true, force: true });
  }
  fs.rmSync(old, { recursive: true, force: true });
  return dir;
}
