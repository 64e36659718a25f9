import type * as pulumi from "@pulumi/pulumi";
import type { DeployConfig } from "../../deployment";
import type { Addresses } from "../../topology";
import type { PodSecrets } from "./pod-secrets";

/**
 * What the Kubernetes program builds once for its components: the deployment, its addresses, the
 * namespaces and the Secrets registry. No component takes it whole: each names the fields it reads
 * in its own args (`Pick<KubernetesContext, …>`, with `cfg` narrowed the same way).
 */
export interface KubernetesContext {
  cfg: DeployConfig;
  addresses: Addresses;
  /** The Namespace resource's name, so every object waits for the namespace. */
  namespace: pulumi.Input<string>;
  /** The namespace of the node exporter alone (addresses.ts, hostNamespace). */
  hostNamespace: pulumi.Input<string>;
  /** The program's Secrets, and the digest of those each pod template reads. */
  podSecrets: PodSecrets;
}

/**
 * Where the rendered files and volumes sit inside the containers: the layouts of the images
 * images/Dockerfile builds (the comment above each stage), as the Docker target uses them.
 */
export const PATHS = {
  staticRoot: "/srv/static",
  /** Where the API writes the static bucket's files before the publisher sidecar uploads them. */
  staticDir: "/var/lib/floodgate/static",
  /** The folder holding nginx.conf; the image's prefix (pid and temp files) is nginxPrefix. */
  nginxConf: "/etc/nginx/floodgate",
  nginxPrefix: "/var/cache/nginx",
  /** The folder holding my.cnf, which the mariadb image's command names (`--defaults-file`). */
  mariadbConf: "/etc/mysql/floodgate",
  mariadbData: "/var/lib/mysql",
  /** The folder holding redis.conf. */
  redisConf: "/etc/redis/floodgate",
  /** Redis's working directory (AOF, RDB, nodes.conf), owned by its redis user. */
  redisData: "/var/lib/redis",
  /** RabbitMQ's HOME: mnesia (and the Erlang cookie file, unused while the cookie comes from the environment). */
  rabbitmqData: "/var/lib/rabbitmq",
  /** The files the rabbitmq image's environment names (RABBITMQ_CONFIG_FILE, RABBITMQ_ENABLED_PLUGINS_FILE). */
  rabbitmqConf: "/etc/rabbitmq/rabbitmq.conf",
  rabbitmqPlugins: "/etc/rabbitmq/enabled_plugins",
  prometheusConf: "/etc/prometheus/conf",
  prometheusRules: "/etc/prometheus/rules",
  prometheusData: "/var/lib/prometheus/data",
  alertmanagerConf: "/etc/alertmanager/conf",
  alertmanagerData: "/var/lib/prometheus/alertmanager",
} as const;
