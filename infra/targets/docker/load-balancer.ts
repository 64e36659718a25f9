import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_NGINX_FILES, renderApiUpstream, renderNginxConf } from "../../render";
import type { Addresses, Topology } from "../../topology";
import { NAMES } from "../../topology";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import type { DeployConfig } from "../../deployment";
import { PATHS, type DockerContext } from "./context";

/** nginx.conf on Docker: listening on every interface, the static volume served, status open to the private network only. */
export function dockerNginxConf(t: Topology, a: Addresses, subnet: string): string {
  return renderNginxConf(t, a, {
    bindHost: "0.0.0.0",
    // The slots that run, not every slot: a stopped container's address times out (2 s) instead of
    // refusing. Deployed with the first api.replicas; the autoscaler keeps it to the running ones.
    apiUpstreamInclude: PATHS.nginxApiUpstream,
    // The exporter scrapes from another container; nginx's own health probe uses the public port.
    statusAllow: [subnet],
    paths: {
      prefix: PATHS.nginxPrefix,
      staticRoot: PATHS.staticRoot,
      ...CONTAINER_NGINX_FILES,
    },
  });
}

/** What LoadBalancer reads: the addresses and subnet it renders, the network, the public port and the nginx image. */
export interface LoadBalancerArgs extends Pick<DockerContext, "addresses" | "network" | "subnet"> {
  cfg: Pick<DeployConfig, "topology" | "publicPort">;
  images: Pick<DockerContext["images"], "nginx">;
  /** The volume of published static files, served read-only under /static/. */
  staticVolume: pulumi.Input<string>;
  /** The API slots: nginx starts after them, so its first requests find an upstream. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** nginx with the rendered config: the only container that publishes a port (the public entry). */
export class LoadBalancer extends pulumi.ComponentResource {
  /** The public entry (nginx's container): its exporter waits for it, and the stack's URLs for it to exist. */
  readonly entry: pulumi.Resource;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:LoadBalancer", name, {}, opts);
    const t = args.cfg.topology;
    this.entry = new docker.Container(
      `${name}-nginx`,
      {
        name: NAMES.nginx,
        image: args.images.nginx,
        // Errors before the config is read go to stderr too (`-e`); nginx.conf sets `daemon off;`.
        command: ["nginx", "-e", "/dev/stderr", "-c", PATHS.nginxConf],
        uploads: [
          { file: PATHS.nginxConf, content: dockerNginxConf(t, args.addresses, args.subnet) },
          { file: PATHS.nginxApiUpstream, content: renderApiUpstream(args.addresses.api.slice(0, t.api.replicas)) },
        ],
        volumes: [{ volumeName: args.staticVolume, containerPath: PATHS.staticRoot, readOnly: true }],
        ports: [{ internal: t.nginx.port, external: args.cfg.publicPort }],
        networksAdvanced: onNetwork(args.network, NAMES.nginx),
        // "/" is a rendered JSON 404: any answer from nginx itself, whether or not an API replica is up.
        healthcheck: httpHealthcheck(t.nginx.port, "/", 10, 404),
        ...limits("nginx", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
    );
    this.registerOutputs({ entry: this.entry });
  }
}
