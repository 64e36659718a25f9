import path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { secretValues, withSecrets, type DeployConfig, type StackOutputs } from "../../deployment";
import { hostPort } from "../../topology";
import { DEFAULT_SUBNET, dockerAddresses, dynamicRange } from "./addresses";
import { ApiCluster } from "./api-cluster";
import { Autoscaler } from "./autoscaler";
import { Backups } from "./backups";
import type { DockerContext } from "./context";
import { dockerImages } from "./images";
import { LoadBalancer } from "./load-balancer";
import { readRuleFiles } from "../../../monitoring/rule-files";
import { Monitoring } from "./monitoring";
import { MysqlPrimaryReplica } from "./mysql-primary-replica";
import { RabbitMq } from "./rabbitmq";
import { RedisCluster } from "./redis-cluster";
import { Runbooks } from "./runbooks";
import { StaticBucket } from "./static-bucket";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

/** The URL of one endpoint, leaving out the scheme's default port. */
export function url(host: string, port: number, pathname = "/"): string {
  return `http://${host}${port === 80 ? "" : `:${port}`}${pathname}`;
}

/** The Docker target: every component on one host's private network; nginx alone publishes a port. */
export function deployDocker(cfg: DeployConfig): StackOutputs {
  const t = cfg.topology;
  const subnet = cfg.docker.subnet ?? DEFAULT_SUBNET;
  const addresses = dockerAddresses(t, subnet);
  const network = new docker.Network("network", {
    name: cfg.docker.network,
    driver: "bridge",
    ipamConfigs: [{ subnet, ipRange: dynamicRange(subnet) }],
  });
  const ctx: DockerContext = {
    cfg,
    addresses,
    network: network.name,
    subnet,
    // Secret twice over: its inputs are secrets, and the wrapper keeps it so should one ever not be.
    secretTopology: pulumi.secret(secretValues(cfg.secrets).apply((values) => withSecrets(t, values))),
    images: dockerImages(cfg, REPO_ROOT),
  };
  const opts = { dependsOn: [network] };
  const mysql = new MysqlPrimaryReplica("mysql", ctx, opts);
  const redis = new RedisCluster("redis", ctx, opts);
  const rabbitmq = new RabbitMq("rabbitmq", ctx, opts);
  const bucket = new StaticBucket("bucket", ctx, opts);
  const api = new ApiCluster(
    "api",
    {
      ...ctx,
      // Every store and its bootstrap job: the API reads replicas and publishes into the bucket.
      dependsOn: [mysql.ready, ...mysql.replicated, redis.ready, rabbitmq.ready, bucket.ready],
      staticVolume: bucket.publishVolume,
    },
    opts,
  );
  const lb = new LoadBalancer("lb", { ...ctx, staticVolume: bucket.edgeVolume, dependsOn: api.slots }, opts);
  // The exporters and the runbooks log in to the stores: they start once the stores' users exist
  // (and, on a rotation, accept the new passwords).
  const afterStores = { dependsOn: [network, mysql.ready, redis.ready, rabbitmq.ready] };
  const monitoring = new Monitoring("monitoring", { ...ctx, rules: readRuleFiles(), nginx: lb.entry }, afterStores);
  const backupTarget = { endpoint: bucket.endpoint, bucket: bucket.buckets.backups };
  const backups = new Backups(
    "backups",
    { ...ctx, target: backupTarget, dependsOn: [bucket.ready, ...mysql.servers] },
    opts,
  );
  const runbooks = new Runbooks("runbooks", { ...ctx, backupTarget }, afterStores);
  const autoscaler = new Autoscaler(
    "autoscaler",
    { ...ctx, apiContainers: api.slotNames, dependsOn: [monitoring.prometheus, ...api.slots] },
    opts,
  );
  // A rotated Redis password is accepted besides the old one until every client holding one runs
  // with it; then only the new one is (redis-auth.ts).
  const redisAuthFinished = redis.finishAuth([api, monitoring, backups, runbooks, autoscaler]).succeeded;
  // The URLs resolve once the entry is up and every one-shot job succeeded; a failed job rejects
  // them with its exit code and last log lines (and fails `pulumi up`, as it fails its dependants).
  const jobs = [
    mysql.ready,
    ...mysql.replicated,
    redis.ready,
    rabbitmq.ready,
    bucket.ready,
    api.migrated,
    redisAuthFinished,
  ];
  const deployed = pulumi.all([lb.entry.urn, ...jobs.map((job) => job.apply((r) => r.urn))]);
  const whenDeployed = (value: string) => deployed.apply(() => value);
  // Without adminPort the UIs stay on the private network (reach them through an SSH tunnel or `docker exec`).
  const admin = (offset: number, internal: { host: string; port: number }) =>
    cfg.adminPort === undefined
      ? `http://${hostPort(internal)}/`
      : url(cfg.adminBindHost ?? "127.0.0.1", cfg.adminPort + offset);
  return {
    apiUrl: whenDeployed(url(cfg.publicHost, cfg.publicPort, "/api/v1/")),
    staticUrl: whenDeployed(url(cfg.publicHost, cfg.publicPort, "/static/")),
    prometheusUrl: whenDeployed(admin(0, addresses.prometheus)),
    alertmanagerUrl: whenDeployed(admin(1, addresses.alertmanager)),
  };
}
