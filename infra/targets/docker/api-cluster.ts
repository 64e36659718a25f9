import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { WORKER_ENTRY_POINTS, WORKER_KINDS, apiName, NAMES, workerName } from "../../topology";
import { apiIp } from "./addresses";
import { appEnv, migrateEnv } from "./app-env";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork, type ContainerRole } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob } from "./one-shot";

/** The app image's command for one entry point under services/src/main/ (compiled to dist/ by the Dockerfile). */
export const appCommand = (entry: string) => ["node", `dist/services/src/main/${entry}.js`];

/** Inputs beyond the context: what must be ready before migrations and services start. */
export interface ApiClusterArgs {
  dependsOn: pulumi.Input<pulumi.Resource>[];
  /** The shared volume the catalog publisher writes. */
  staticVolume: pulumi.Input<string>;
}

/**
 * The API slots (running: `api.replicas`; the rest created stopped for the autoscaler), the queue
 * workers and the tracker; a migration job runs first and every service waits for it.
 */
export class ApiCluster extends pulumi.ComponentResource {
  /** Every API slot container, in slot order. */
  readonly apiSlots: docker.Container[];
  /** The migration job, once it succeeded: every service waits for it. */
  readonly migrated: pulumi.Output<pulumi.Resource>;

  constructor(name: string, ctx: DockerContext, args: ApiClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:ApiCluster", name, {}, opts);
    const t = ctx.cfg.topology;
    const a = ctx.addresses;
    const staticMount = [{ volumeName: args.staticVolume, containerPath: PATHS.staticDir }];
    // Replaced whenever the image or the schema's inputs change, so each new version migrates once, first.
    const migrate = oneShotJob(
      `${name}-migrate`,
      {
        name: "migrate",
        image: ctx.images.app,
        command: appCommand("migrate"),
        envs: ctx.secretTopology.apply((s) => migrateEnv(s, a)),
        networksAdvanced: onNetwork(ctx.network, "migrate"),
        ...limits("job", t),
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
      Object.values(ctx.cfg.secrets),
    );
    this.migrated = migrate.succeeded;
    const service = (
      container: string,
      role: ContainerRole,
      entry: string,
      env: pulumi.Output<string[]>,
      port: number,
      healthPath: string,
      extra: Partial<docker.ContainerArgs> = {},
      after?: docker.Container,
    ) =>
      new docker.Container(
        `${name}-${container}`,
        {
          name: container,
          image: ctx.images.app,
          command: appCommand(entry),
          envs: env,
          volumes: staticMount,
          networksAdvanced: onNetwork(ctx.network, container),
          healthcheck: httpHealthcheck(port, healthPath, 30),
          // Longer than the API's shutdown drain, so in-flight requests finish before SIGKILL.
          stopTimeout: 30,
          ...limits(role, t),
          ...LONG_RUNNING,
          ...extra,
        },
        // Fixed names and addresses cannot exist twice: replace by stopping the old one first.
        // A failed migration fails these too: no service starts on a schema it does not expect. And
        // one after another: a rotated secret replaces each only once the one before is healthy.
        { parent: this, deleteBeforeReplace: true, dependsOn: [this.migrated, ...(after ? [after] : [])] },
      );
    this.apiSlots = [];
    a.api.forEach((slot, i) => {
      const running = i < t.api.replicas;
      const env = ctx.secretTopology.apply((s) => appEnv(s, a, { id: apiName(i), port: slot.port }));
      // Readiness, as on every target: 503 only while draining or cut off from every dependency, so a
      // shared dependency's outage never marks every replica unhealthy (Docker restarts nothing on it;
      // `pulumi up` waits on it).
      const extra = {
        networksAdvanced: onNetwork(ctx.network, apiName(i), apiIp(ctx.subnet, i)),
        // Slots above api.replicas exist stopped; the autoscaler starts and stops them.
        ...(running ? {} : { start: false, mustRun: false, wait: false }),
        labels: [{ label: "floodgate.role", value: "api" }],
      };
      const container = service(
        apiName(i),
        "api",
        "api",
        env,
        slot.port,
        "/api/v1/health",
        extra,
        this.apiSlots[i - 1],
      );
      this.apiSlots.push(container);
    });
    for (const kind of WORKER_KINDS) {
      let previous: docker.Container | undefined;
      a.workers[kind].forEach((w, i) => {
        const id = workerName(kind, i);
        const concurrency = t.workers[kind].concurrency;
        const env = ctx.secretTopology.apply((s) => appEnv(s, a, { id, port: w.port, concurrency }));
        previous = service(id, "worker", WORKER_ENTRY_POINTS[kind], env, w.port, "/health", {}, previous);
      });
    }
    const trackerEnv = ctx.secretTopology.apply((s) => appEnv(s, a, { id: NAMES.tracker, port: a.tracker.port }));
    service(NAMES.tracker, "tracker", "tracker", trackerEnv, a.tracker.port, "/health");
    this.registerOutputs({ apiSlots: this.apiSlots.map((c) => c.name) });
  }
}
