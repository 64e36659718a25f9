// Makes sure the base image exists: when the configured base (debian:bookworm-slim by default) is
// absent and no registry is reachable, a minbase debootstrap of bookworm from the mirror apt already
// uses here, imported under the base's name. Blast radius: one image in the local Engine.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { $ } from "zx";

/** The base every image builds on unless --base says otherwise. */
export const DEFAULT_BASE_IMAGE = "debian:bookworm-slim";

/** One deb822 source stanza of the Debian archive. */
export interface DebianSource {
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** The Debian bookworm stanzas of a deb822 `.sources` file (Types: deb, plain-http or https URIs). */
export function parseDebianSources(text: string): DebianSource[] {
  const stanzas = text.split(/\n\s*\n/).map((block) => {
    const fields: Record<string, string> = {};
    for (const line of block.split("\n")) {
      const [, name, value] = /^([A-Za-z-]+):\s*(.*)$/.exec(line) ?? [];
      if (name !== undefined && value !== undefined) fields[name.toLowerCase()] = value.trim();
    }
    return fields;
  });
  return stanzas.flatMap(({ types = "", uris, suites = "", components = "main", "signed-by": signedBy }) => {
    if (!types.split(/\s+/).includes("deb") || !/(^|\s)bookworm/.test(suites)) return [];
    if (uris === undefined) throw new Error(`a deb822 stanza of ${suites} has no URIs`);
    return [{ uris: uris.split(/\s+/), suites: suites.split(/\s+/), components: components.split(/\s+/), signedBy }];
  });
}

/** A deb822 file of `sources`. */
export function renderDebianSources(sources: DebianSource[]): string {
  return sources
    .map((s) =>
      [
        "Types: deb",
        `URIs: ${s.uris.join(" ")}`,
        `Suites: ${s.suites.join(" ")}`,
        `Components: ${s.components.join(" ")}`,
        ...(s.signedBy ? [`Signed-By: ${s.signedBy}`] : []),
      ].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}

/** The host's Debian sources, from /etc/apt/sources.list.d/*.sources. */
export function hostDebianSources(dir = "/etc/apt/sources.list.d"): DebianSource[] {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".sources")) : [];
  const sources = files.flatMap((f) => parseDebianSources(fs.readFileSync(path.join(dir, f), "utf8")));
  if (!sources.some((s) => s.suites.includes("bookworm"))) {
    throw new Error(`no Debian bookworm source in ${dir}/*.sources: cannot pick a mirror for debootstrap`);
  }
  return sources;
}

/** What the official slim images leave out: package lists, docs but their copyrights, man pages, translations. */
const SLIM_EXCLUDES = [
  "path-exclude /usr/share/doc/*",
  "path-include /usr/share/doc/*/copyright",
  "path-exclude /usr/share/man/*",
  "path-exclude /usr/share/info/*",
  "path-exclude /usr/share/locale/*",
];

/** Trim a debootstrapped root as the official slim image is trimmed, and keep later installs trimmed. */
function slim(dir: string): void {
  const rm = (rel: string) => fs.rmSync(path.join(dir, rel), { recursive: true, force: true });
  for (const rel of ["var/lib/apt/lists", "var/cache/apt", "usr/share/man", "usr/share/info", "usr/share/locale"]) {
    rm(rel);
  }
  fs.mkdirSync(path.join(dir, "var/lib/apt/lists/partial"), { recursive: true });
  fs.mkdirSync(path.join(dir, "var/cache/apt/archives/partial"), { recursive: true });
  const docs = path.join(dir, "usr/share/doc");
  for (const pkg of fs.readdirSync(docs)) {
    for (const f of fs.readdirSync(path.join(docs, pkg))) if (f !== "copyright") rm(path.join("usr/share/doc", pkg, f));
  }
  fs.writeFileSync(path.join(dir, "etc/dpkg/dpkg.cfg.d/docker"), SLIM_EXCLUDES.join("\n") + "\n");
}

/** Whether the Engine has image `name`. */
export async function hasImage(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Import the root file system in `dir` as image `name` (repo:tag). */
async function importRootFs(docker: Docker, dir: string, name: string): Promise<void> {
  const [repo, tag] = name.includes(":")
    ? [name.slice(0, name.lastIndexOf(":")), name.slice(name.lastIndexOf(":") + 1)]
    : [name, "latest"];
  const tar = spawn("tar", ["-C", dir, "--numeric-owner", "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
  const tarDone = new Promise<void>((resolve, reject) =>
    tar.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`)))),
  );
  const stream = await docker.importImage(tar.stdout, { repo, tag });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
  );
  await tarDone;
}

/**
 * Make sure image `name` exists: when it is absent, debootstrap bookworm (minbase) from the host's
 * Debian mirror, give it the host's Debian sources (bookworm, -updates, -security: the same versions
 * the host's packages come from) and import it as `name`.
 */
export async function ensureBaseImage(docker: Docker, name: string, log: (m: string) => void = () => undefined) {
  // Check
  if (await hasImage(docker, name)) return;
  const sources = hostDebianSources();
  const mirror = sources.find((s) => s.suites.includes("bookworm"))!.uris[0];
  // Apply
  if ((await $({ nothrow: true, quiet: true })`command -v debootstrap`).exitCode !== 0) {
    log("debootstrap is missing: apt-get install -y debootstrap");
    await $({
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      quiet: true,
    })`apt-get install -y -q debootstrap`;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floodgate-base-"));
  const started = Date.now();
  try {
    log(`${name} is absent: debootstrap --variant=minbase bookworm from ${mirror}`);
    await $({ quiet: true })`debootstrap --variant=minbase bookworm ${dir} ${mirror}`;
    fs.rmSync(path.join(dir, "etc/apt/sources.list"), { force: true });
    fs.writeFileSync(path.join(dir, "etc/apt/sources.list.d/debian.sources"), renderDebianSources(sources));
    slim(dir);
    await importRootFs(docker, dir, name);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Verify
  if (!(await hasImage(docker, name))) throw new Error(`docker import did not leave ${name}`);
  log(`${name} imported from debootstrap in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
