import type * as pulumi from "@pulumi/pulumi";
import type { DeployConfig, Images } from "../deployment";
import type { Addresses, Topology } from "../topology";

/** What every Docker component is given: the deployment, its addresses, the network and the pulled images. */
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
  /** Image ids to run, by the Images key (pulled or built once per image). */
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
  mariadbCnf: "/etc/mysql/conf.d/zz-floodgate.cnf",
  redisConf: "/usr/local/etc/redis/redis.conf",
  rabbitmqConf: "/etc/rabbitmq/rabbitmq.conf",
  rabbitmqDefinitions: "/etc/rabbitmq/definitions.json",
  rabbitmqPlugins: "/etc/rabbitmq/enabled_plugins",
  prometheusYml: "/etc/prometheus/prometheus.yml",
  prometheusRules: "/etc/prometheus/rules",
  alertmanagerYml: "/etc/alertmanager/alertmanager.yml",
  exporterMyCnf: "/etc/mysqld-exporter/my.cnf",
  sqlDir: "/floodgate-sql",
} as const;
