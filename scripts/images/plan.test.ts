import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseDebianSources, renderDebianSources } from "./base-image";
import { sriToSha512Hex } from "./build-args";
import { COMPONENTS, localImage, pushedImage, selectComponents, versionArg } from "./components";

describe("image names", () => {
  it.each([
    ["mariadb", "0.1.0", "floodgate/mariadb:0.1.0"],
    ["node-exporter", "rc1", "floodgate/node-exporter:rc1"],
  ])("builds %s as floodgate/<component>:<tag>", (name, tag, expected) => {
    expect(localImage(name, tag)).toBe(expected);
  });

  it.each([
    ["registry.example:5000", "redis", "1.2.3", "registry.example:5000/floodgate-redis:1.2.3"],
    ["registry.example/team/", "services", "v2", "registry.example/team/floodgate-services:v2"],
  ])("pushes to %s as <registry>/floodgate-<component>:<tag>", (registry, name, tag, expected) => {
    expect(pushedImage(registry, name, tag)).toBe(expected);
  });
});

describe("versionArg", () => {
  it.each([
    ["mariadb-server", "MARIADB_SERVER_VERSION"],
    ["prometheus-node-exporter", "PROMETHEUS_NODE_EXPORTER_VERSION"],
    ["nginx", "NGINX_VERSION"],
  ])("pins %s with build argument %s", (pkg, arg) => {
    expect(versionArg(pkg)).toBe(arg);
  });

  it("names a build argument images/Dockerfile declares for every pinned package", () => {
    const dockerfile = fs.readFileSync(path.join(__dirname, "..", "..", "images", "Dockerfile"), "utf8");
    for (const pkg of COMPONENTS.flatMap((c) => c.packages)) expect(dockerfile).toContain(`ARG ${versionArg(pkg)}=`);
    for (const c of COMPONENTS) expect(dockerfile).toMatch(new RegExp(`^FROM \\S+ AS ${c.name}$`, "m"));
  });
});

describe("selectComponents", () => {
  it("selects every component, servers first and services last, without --only", () => {
    const names = selectComponents(undefined).map((c) => c.name);
    expect(names).toHaveLength(11);
    expect(names.at(-1)).toBe("services");
  });

  it("keeps build order whatever order --only lists", () => {
    expect(selectComponents(["services", "redis"]).map((c) => c.name)).toEqual(["redis", "services"]);
  });

  it("rejects an unknown component, naming it", () => {
    expect(() => selectComponents(["redis", "seaweedfs"])).toThrow(/unknown component seaweedfs/);
  });
});

describe("Debian sources for the debootstrapped base", () => {
  const sources = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
`;

  it("keeps only the bookworm binary stanzas", () => {
    expect(parseDebianSources(sources)).toEqual([
      {
        uris: ["http://deb.debian.org/debian"],
        suites: ["bookworm", "bookworm-updates"],
        components: ["main"],
        signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
      },
    ]);
  });

  it("renders what it parsed back as deb822", () => {
    const parsed = parseDebianSources(sources);
    expect(parseDebianSources(renderDebianSources(parsed))).toEqual(parsed);
  });
});

describe("sriToSha512Hex", () => {
  it("turns npm's integrity into the hex digest sha512sum checks", () => {
    const data = Buffer.from("node");
    const sri = `sha512-${crypto.createHash("sha512").update(data).digest("base64")}`;
    expect(sriToSha512Hex(sri)).toBe(crypto.createHash("sha512").update(data).digest("hex"));
  });

  it("rejects anything but sha512", () => {
    expect(() => sriToSha512Hex("sha1-abc=")).toThrow(/expected a sha512 integrity/);
  });
});
