import type * as pulumi from "@pulumi/pulumi";
import type { DeployConfig, Images } from "../../deployment";
import type { Addresses, Topology } from "../../topology";

/**
 * What the Docker program builds once for its components: the deployment, its addresses, the
 * network and the images. No component takes it whole: each names the fields it reads in its own
 * args (`Pick<DockerContext, …>`, with `cfg` and `images` narrowed the same way), so the program can
 * pass the context and a test only what the component uses.
 */
export interface DockerContext {
  cfg: DeployConfig;
  addresses: Addresses;
  /** The private network's name (an Output of the Network resource, so containers wait for it). */
  network: pulumi.Input<string>;
  subnet: string;
  /**
   * The topology with the real secrets in place of the placeholders: a secret Output. Render
   * anything that contains a secret from this, never from `cfg.topology`.
   */
  secretTopology: pulumi.Output<Topology>;
  /** Image ids to run, by the Images key (built on the host or pulled, once per image). */
  images: Record<keyof Images, pulumi.Input<string>>;
}

/** Where the rendered files and shared volumes sit inside the containers. */
export const PATHS = {
  nginxConf: "/etc/nginx/floodgate/nginx.conf",
  /** The `api` upstream's servers, which nginx.conf includes: the autoscaler rewrites it to the running slots. */
  nginxApiUpstream: "/etc/nginx/floodgate/api-upstream.conf",
  nginxPrefix: "/var/cache/nginx",
  staticRoot: "/srv/static",
  /** Where the API (the catalog publisher) writes the static files; the same volume nginx serves. */
  staticDir: "/var/lib/floodgate/static",
  /** The whole cnf mariadbd reads (`--defaults-file`, the mariadb image's command). */
  mariadbCnf: "/etc/mysql/floodgate/my.cnf",
  /** MariaDB's data directory: the image's, owned by its mysql user. */
  mariadbData: "/var/lib/mysql",
  redisConf: "/etc/redis/floodgate/redis.conf",
  /** Redis's working directory (AOF, RDB, nodes.conf): the image's, owned by its redis user. */
  redisData: "/var/lib/redis",
  /** RabbitMQ's home: mnesia and the Erlang cookie, owned by its rabbitmq user. */
  rabbitmqData: "/var/lib/rabbitmq",
  prometheusData: "/var/lib/prometheus/data",
  alertmanagerData: "/var/lib/prometheus/alertmanager",
  rabbitmqConf: "/etc/rabbitmq/rabbitmq.conf",
  rabbitmqDefinitions: "/etc/rabbitmq/definitions.json",
  rabbitmqPlugins: "/etc/rabbitmq/enabled_plugins",
  prometheusYml: "/etc/prometheus/prometheus.yml",
  prometheusRules: "/etc/prometheus/rules",
  alertmanagerYml: "/etc/alertmanager/alertmanager.yml",
  exporterMyCnf: "/etc/mysqld-exporter/my.cnf",
  sqlDir: "/floodgate-sql",
} as const;
