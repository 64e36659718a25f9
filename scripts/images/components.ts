/** One image built from images/Dockerfile: its target, its Debian packages and how to prove it runs. */
export interface ImageComponent {
  /** The Dockerfile target, and the image's name: floodgate/<name>:<tag>. */
  name: string;
  /** Debian packages the target installs, pinned to the host's versions (a build argument each). */
  packages: string[];
  /** The non-root user the image runs as. */
  user: string;
  /** A command (run with the entry point cleared) that prints the server's version. */
  versionCommand: string[];
}

/** Every component's image, servers first, in images/Dockerfile's order. */
export const COMPONENTS: readonly ImageComponent[] = [
  { name: "mariadb", packages: ["mariadb-server"], user: "mysql", versionCommand: ["mariadbd", "--version"] },
  { name: "redis", packages: ["redis-server"], user: "redis", versionCommand: ["redis-server", "--version"] },
  {
    name: "rabbitmq",
    packages: ["rabbitmq-server"],
    user: "rabbitmq",
    versionCommand: ["/usr/lib/rabbitmq/bin/rabbitmqctl", "version"],
  },
  { name: "nginx", packages: ["nginx"], user: "www-data", versionCommand: ["nginx", "-v"] },
  { name: "prometheus", packages: ["prometheus"], user: "prometheus", versionCommand: ["prometheus", "--version"] },
  {
    name: "alertmanager",
    packages: ["prometheus-alertmanager"],
    user: "prometheus",
    versionCommand: ["prometheus-alertmanager", "--version"],
  },
  {
    name: "mysqld-exporter",
    packages: ["prometheus-mysqld-exporter"],
    user: "prometheus",
    versionCommand: ["prometheus-mysqld-exporter", "--version"],
  },
  {
    name: "redis-exporter",
    packages: ["prometheus-redis-exporter"],
    user: "prometheus",
    versionCommand: ["prometheus-redis-exporter", "-version"],
  },
  {
    name: "nginx-exporter",
    packages: ["prometheus-nginx-exporter"],
    user: "prometheus",
    versionCommand: ["prometheus-nginx-exporter", "-version"],
  },
  {
    name: "node-exporter",
    packages: ["prometheus-node-exporter"],
    user: "prometheus",
    versionCommand: ["prometheus-node-exporter", "--version"],
  },
  {
    name: "services",
    packages: ["mariadb-client", "mariadb-server-core", "redis-tools"],
    user: "node",
    versionCommand: ["node", "--version"],
  },
];

/** The build argument that pins `pkg` in images/Dockerfile: mariadb-server → MARIADB_SERVER_VERSION. */
export const versionArg = (pkg: string) => `${pkg.toUpperCase().replace(/-/g, "_")}_VERSION`;

/** The local image name of a component: floodgate/<name>:<tag>. */
export const localImage = (name: string, tag: string) => `floodgate/${name}:${tag}`;

/**
 * The pushed name of a component: <registry>/floodgate-<name>:<tag> — one path segment under the
 * registry, which every registry accepts.
 */
export const pushedImage = (registry: string, name: string, tag: string) =>
  `${registry.replace(/\/+$/, "")}/floodgate-${name}:${tag}`;

/** The components `--only a,b` selects, in build order; an unknown name fails with the known ones listed. */
export function selectComponents(only: string[] | undefined): ImageComponent[] {
  if (!only) return [...COMPONENTS];
  const known = COMPONENTS.map((c) => c.name);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`unknown component ${unknown.join(", ")}: expected ${known.join(", ")}`);
  return COMPONENTS.filter((c) => only.includes(c.name));
}
