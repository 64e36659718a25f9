import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_NGINX_FILES, renderApiUpstream, renderNginxConf } from "../../render";
import type { Addresses, Topology } from "../../topology";
import { NAMES } from "../../topology";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork } from "./container-spec";
import { PATHS } from "./context";
import type { DockerContext } from "./context";

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

/** Inputs beyond the context. */
export interface LoadBalancerArgs {
  /** The volume of published static files, served read-only under /static/. */
  staticVolume: pulumi.Input<string>;
  /** The API slots: nginx starts after them, so its first requests find an upstream. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** nginx with the rendered config: the only container that publishes a port (the public entry). */
export class LoadBalancer extends pulumi.ComponentResource {
  /** The nginx container. */
  readonly container: docker.Container;

  constructor(name: string, ctx: DockerContext, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:LoadBalancer", name, {}, opts);
    const t = ctx.cfg.topology;
    this.container = new docker.Container(
      `${name}-nginx`,
      {
        name: NAMES.nginx,
        image: ctx.images.nginx,
        // Errors before the config is read go to stderr too (`-e`); nginx.conf sets `daemon off;`.
        command: ["nginx", "-e", "/dev/stderr", "-c", PATHS.nginxConf],
        uploads: [
          { file: PATHS.nginxConf, content: dockerNginxConf(t, ctx.addresses, ctx.subnet) },
          { file: PATHS.nginxApiUpstream, content: renderApiUpstream(ctx.addresses.api.slice(0, t.api.replicas)) },
        ],
        volumes: [{ volumeName: args.staticVolume, containerPath: PATHS.staticRoot, readOnly: true }],
        ports: [{ internal: t.nginx.port, external: ctx.cfg.publicPort }],
        networksAdvanced: onNetwork(ctx.network, NAMES.nginx),
        // "/" is a rendered JSON 404: any answer from nginx itself, whether or not an API replica is up.
        healthcheck: httpHealthcheck(t.nginx.port, "/", 10, 404),
        ...limits("nginx", t),
        ...LONG_RUNNING,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
    );
    this.registerOutputs({ container: this.container.name });
  }
}
