import type * as pulumi from "@pulumi/pulumi";
import type { DeployConfig } from "../deployment";
import type { Addresses } from "../topology";

/** What every Kubernetes component is given: the deployment, its addresses and the namespace it lives in. */
export interface KubernetesContext {
  cfg: DeployConfig;
  addresses: Addresses;
  /** The Namespace resource's name, so every object waits for the namespace. */
  namespace: pulumi.Input<string>;
}

/** Where the rendered files and shared volumes sit inside the containers. */
export const PATHS = {
  staticRoot: "/srv/static",
  /** Where the API writes the static bucket's files before the publisher sidecar uploads them. */
  staticDir: "/var/lib/floodgate/static",
  nginxConf: "/etc/nginx/floodgate",
  prometheusRules: "/etc/prometheus/rules",
} as const;
