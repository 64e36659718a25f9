import { readRuleFiles } from "../../../monitoring/rule-files";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeployConfig, StackOutputs } from "../../deployment";
import { hostPort } from "../../topology";
import { hostNamespace, kubernetesAddresses, type ClusterDns } from "./addresses";
import { AdminGateway } from "./admin-gateway";
import { ApiCluster } from "./api-cluster";
import { keepOnDestroy } from "./availability";
import { Autoscaling } from "./autoscaler";
import { Backups } from "./backups";
import type { KubernetesContext } from "./context";
import { LoadBalancer } from "./load-balancer";
import { Monitoring } from "./monitoring";
import { PodSecrets } from "./pod-secrets";
import { DEPLOYMENT_POD_SECURITY, HOST_POD_SECURITY, podSecurityLabels } from "./pod-security";
import { MysqlPrimaryReplica } from "./mysql-primary-replica";
import { RabbitMq } from "./rabbitmq";
import { RedisCluster } from "./redis-cluster";
import { Runbooks } from "./runbooks";
import { StaticBucket } from "./static-bucket";

/** Deploy floodgate to the Kubernetes cluster of the current kubeconfig, in its own namespace. */
export function deployKubernetes(cfg: DeployConfig): StackOutputs {
  const t = cfg.topology;
  // Kept by `pulumi destroy` unless the stack asks (keepOnDestroy): deleting a namespace deletes its claims.
  const ns = new k8s.core.v1.Namespace(
    "floodgate",
    { metadata: { name: cfg.kubernetes.namespace, labels: podSecurityLabels(DEPLOYMENT_POD_SECURITY) } },
    keepOnDestroy(cfg),
  );
  const hostNs = new k8s.core.v1.Namespace("floodgate-host", {
    metadata: { name: hostNamespace(cfg.kubernetes.namespace), labels: podSecurityLabels(HOST_POD_SECURITY) },
  });
  const dns: ClusterDns = { namespace: cfg.kubernetes.namespace };
  const addresses = kubernetesAddresses(t, dns);
  const ctx: KubernetesContext = {
    cfg,
    addresses,
    namespace: ns.metadata.name,
    hostNamespace: hostNs.metadata.name,
    podSecrets: new PodSecrets(ns.metadata.name, { imagePullSecret: cfg.kubernetes.imagePullSecret }),
  };
  const mysql = new MysqlPrimaryReplica("mysql", ctx);
  const redis = new RedisCluster("redis", ctx);
  const rabbitmq = new RabbitMq("rabbitmq", ctx);
  const stores = [mysql, redis, rabbitmq];
  const bucket = new StaticBucket("bucket", { ...ctx, dns });
  // The migration Job (and so the API) waits for the stores' bootstrap Jobs; nginx only for the
  // API's Services, whose names it resolves at start.
  const apiCluster = new ApiCluster(
    "api",
    { ...ctx, staticPublisher: bucket.publisher, stores: [...mysql.ready, redis.ready, rabbitmq.ready, bucket.ready] },
    { dependsOn: stores },
  );
  new LoadBalancer("lb", { ...ctx, staticSync: bucket.edgeSync, upstreams: apiCluster.upstreams });
  const monitoring = new Monitoring("monitoring", {
    ...ctx,
    rules: Object.fromEntries(readRuleFiles().map((r) => [r.name, r.content])),
  });
  if (cfg.adminPort !== undefined) new AdminGateway("admin", ctx, { dependsOn: [monitoring] });
  new Backups("backups", { ...ctx, s3Endpoint: bucket.s3Endpoint }, { dependsOn: stores });
  new Autoscaling("autoscaling", { ...ctx, target: apiCluster.scaleTarget });
  new Runbooks("runbooks", { ...ctx, s3Endpoint: bucket.s3Endpoint });
  const publicBase = `http://${cfg.publicHost}:${cfg.publicPort}`;
  const admin = (offset: number, inCluster: string) =>
    pulumi.output(
      cfg.adminPort === undefined ? `http://${inCluster}` : `http://${cfg.publicHost}:${cfg.adminPort + offset}`,
    );
  return {
    apiUrl: pulumi.output(`${publicBase}/api/v1/`),
    staticUrl: pulumi.output(`${publicBase}/static/`),
    prometheusUrl: admin(0, hostPort(addresses.prometheus)),
    alertmanagerUrl: admin(1, hostPort(addresses.alertmanager)),
  };
}
