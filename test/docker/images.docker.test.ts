import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { DEFAULT_BASE_IMAGE } from "../../scripts/images/base-image";
import type { BuildResult } from "../../scripts/images/build";
import { hostPackageVersions } from "../../scripts/images/build-args";
import { COMPONENTS, localImage, type ImageComponent } from "../../scripts/images/components";
import { BUILD_CA_NAME, HOST_CA_BUNDLE } from "../../scripts/images/context";
import { makeImages } from "../../scripts/images/images";
import { IMAGE_TARGETS, IMAGE_USERS, type ImageUser } from "../../infra/config";
import { renderMariadbCnf, renderRedisConf } from "../../infra/render";
import { parseTopology } from "../../infra/topology";
import { first } from "../support/checked";

// Every component's image built from images/Dockerfile as `npm run images` builds it (a Docker Engine
// started and the base debootstrapped when missing), then each checked in throwaway containers: its
// own non-root user, the host's Debian package versions, a server binary that starts, and no trace
// of the machine's CA bundle. The first build takes minutes; later ones come from the layer cache.

const repoRoot = path.resolve(__dirname, "..", "..");
const TAG = "int-test";
const LABEL = { "floodgate.test": "images" };
let docker: Docker;
let built: BuildResult[];

/** The upstream part of a Debian version: 1:10.11.19-0+deb12u1 → 10.11.19, 2.42.0+ds-5 → 2.42.0. */
const upstream = (debianVersion: string) =>
  debianVersion
    .replace(/^\d+:/, "")
    .replace(/-[^-]*$/, "")
    .replace(/[+~].*$/, "");

/** Run `cmd` in a fresh container of `image` (its entry point cleared), wait for it, remove it: exit code and output. */
async function run(image: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: [],
    Cmd: cmd,
    Tty: true,
    Labels: LABEL,
    HostConfig: { NetworkMode: "none" },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const out = (await container.logs({ stdout: true, stderr: true })).toString("utf8").replace(/\r\n/g, "\n");
    return { code: StatusCode, out };
  } finally {
    await container.remove({ force: true });
  }
}

/** Exec `cmd` in a running container: exit code and output. */
async function exec(container: Docker.Container, cmd: string[]): Promise<{ code: number; out: string }> {
  const e = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await e.start({ hijack: true, stdin: false, Tty: true });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const { ExitCode } = await e.inspect();
  return { code: ExitCode ?? -1, out: Buffer.concat(chunks).toString("utf8") };
}

/**
 * Start `image` with its own entry point and command, `files` bind-mounted read-only, until `ready`
 * exits 0 inside it (30 s at most); returns what it logged by then. The container is removed.
 */
async function serve(image: string, files: Record<string, string>, ready: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-serve-"));
  const binds = Object.entries(files).map(([at, content], i) => {
    const file = path.join(dir, String(i));
    fs.writeFileSync(file, content, { mode: 0o644 });
    return `${file}:${at}:ro`;
  });
  const container = await docker.createContainer({
    Image: image,
    Labels: LABEL,
    HostConfig: { Binds: binds, NetworkMode: "none" },
  });
  try {
    await container.start();
    const deadline = Date.now() + 30_000;
    let last = { code: -1, out: "" };
    while (Date.now() < deadline && (last = await exec(container, ready)).code !== 0) {
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(last).toMatchObject({ code: 0 });
    return (await container.logs({ stdout: true, stderr: true })).toString("utf8");
  } finally {
    await container.remove({ force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const image = (c: ImageComponent) => localImage(c.name, TAG);

/** The user IMAGE_USERS records for a Dockerfile target (each target is built for one image key). */
function userOf(target: string): ImageUser {
  const key = (Object.keys(IMAGE_TARGETS) as Array<keyof typeof IMAGE_TARGETS>).find(
    (k) => IMAGE_TARGETS[k] === target,
  );
  if (!key) throw new Error(`no image key is built from target ${target}`);
  return IMAGE_USERS[key];
}
const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  const started = Date.now();
  const log = (m: string) => process.stdout.write(`  [images +${((Date.now() - started) / 1000).toFixed(1)}s] ${m}\n`);
  ({ docker, results: built } = await makeImages({ repoRoot, base: DEFAULT_BASE_IMAGE, tag: TAG, log }));
  process.stdout.write(
    `  build times (s): ${built.map((b) => `${b.component} ${b.seconds.toFixed(1)}${b.cached ? " cached" : ""}`).join(", ")}\n`,
  );
}, 3_600_000);

afterAll(async () => {
  // Whatever a failed assertion left running.
  const left = await docker?.listContainers({ all: true, filters: { label: ["floodgate.test=images"] } });
  for (const c of left ?? []) await docker.getContainer(c.Id).remove({ force: true });
});

describe("images from Debian's packages", () => {
  it("builds every component's image", () => {
    expect(built.map((b) => b.component)).toEqual(COMPONENTS.map((c) => c.name));
  });

  describe.each(COMPONENTS.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    it(`runs as its own non-root user (${c.user}) with the ids Kubernetes pods name (IMAGE_USERS)`, async () => {
      const { Config } = await docker.getImage(image(c)).inspect();
      expect(Config.User).toBe(c.user);
      const { code, out } = await run(image(c), ["sh", "-c", "id -un; id -u; id -g"]);
      expect(code).toBe(0);
      const [name, uid, gid] = out.trim().split("\n");
      expect(name).toBe(c.user);
      const expected = userOf(c.name);
      expect({ name, uid: Number(uid), gid: Number(gid) }).toEqual(expected);
      expect(Number(uid)).toBeGreaterThan(0);
    });

    it("carries the Debian package versions the local stack runs", async () => {
      const host = await hostPackageVersions(c.packages);
      const format = "${Package} ${Version}\\n";
      const { code, out } = await run(image(c), ["dpkg-query", "-W", `-f=${format}`, ...c.packages]);
      expect(code).toBe(0);
      const inside = Object.fromEntries(
        out
          .trim()
          .split("\n")
          .map((l) => l.trim().split(" ")),
      );
      expect(inside).toEqual(host);
    });

    it("starts its binary, the package's version", async () => {
      const { code, out } = await run(image(c), c.versionCommand);
      expect(code).toBe(0);
      if (c.name === "services") {
        const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
        expect(out.trim()).toBe(`v${pkg.devDependencies.node}`);
      } else {
        const versions = Object.values(await hostPackageVersions(c.packages.slice(0, 1)));
        expect(out).toContain(upstream(first(versions, "the host's version of the image's first package")));
      }
    });

    it("holds no copy of the machine's CA bundle, in its files or its history", async () => {
      const ca = fs.readFileSync(HOST_CA_BUNDLE);
      // Every file of the bundle's exact size, hashed: the bundle under any name would show.
      const { code, out } = await run(image(c), [
        "sh",
        "-c",
        `find / -xdev -type f -size ${ca.length}c -exec sha256sum {} + 2>/dev/null; find / -xdev -name ${BUILD_CA_NAME} 2>/dev/null; true`,
      ]);
      expect(code).toBe(0);
      expect(out).not.toContain(sha256(ca));
      expect(out).not.toContain(BUILD_CA_NAME);
      const history = await docker.getImage(image(c)).history();
      expect(JSON.stringify(history)).not.toContain(BUILD_CA_NAME);
    });
  });

  it("the services image has the compiled entry points and their dependencies", async () => {
    const services = COMPONENTS.find((c) => c.name === "services")!;
    // The API loads its whole import graph, then refuses to start without its environment (exit 78).
    const { code, out } = await run(image(services), ["node", "dist/services/src/main/api.js"]);
    expect(out).not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND/);
    expect(out).toMatch(/\(unset\)/);
    expect(code).toBe(78);
    const tools = await run(image(services), [
      "sh",
      "-c",
      "mariadb --version && mariadbd --version && redis-cli --version",
    ]);
    expect(tools.code).toBe(0);
    // No Pulumi SDK and no npm; zx stays, since the runbooks in the image are zx scripts.
    const noDevTools = await run(image(services), [
      "sh",
      "-c",
      "for p in @pulumi/pulumi @pulumi/docker @pulumi/kubernetes zx; do " +
        'if [ -e "node_modules/$p" ]; then echo "has $p"; else echo "lacks $p"; fi; done; command -v npm || true',
    ]);
    expect(noDevTools.out.trim().split("\n")).toEqual([
      "lacks @pulumi/pulumi",
      "lacks @pulumi/docker",
      "lacks @pulumi/kubernetes",
      "has zx",
    ]);
  });

  describe("serves with the config the renderers write, unadapted", () => {
    const t = parseTopology({});

    it("mariadb initialises its data directory and serves, logging to the container's stderr", async () => {
      const cnf = renderMariadbCnf(t, {
        role: "primary",
        serverId: 1,
        port: 3306,
        bindHost: "0.0.0.0",
        paths: {
          datadir: "/var/lib/mysql",
          socket: "/run/mysqld/mysqld.sock",
          pidFile: "/run/mysqld/mysqld.pid",
          errorLog: "/var/log/mysql/error.log",
          tmpdir: "/tmp",
        },
      });
      const logs = await serve(localImage("mariadb", TAG), { "/etc/mysql/floodgate/my.cnf": cnf }, [
        "mariadb",
        "-umysql",
        "-e",
        "SELECT @@log_bin",
      ]);
      expect(logs).toMatch(/mariadbd: ready for connections/);
    });

    it("redis serves, logging to stdout", async () => {
      const conf = renderRedisConf(t, {
        port: 6379,
        bindHost: "0.0.0.0",
        paths: { dir: "/var/lib/redis", pidFile: "/var/lib/redis/redis.pid", logFile: "/dev/stdout" },
      });
      const logs = await serve(localImage("redis", TAG), { "/etc/redis/floodgate/redis.conf": conf }, [
        "sh",
        "-c",
        "redis-cli -p 6379 ping 2>&1 | grep -qE 'PONG|NOAUTH'",
      ]);
      expect(logs).toMatch(/Ready to accept connections/);
    });
  });
});
