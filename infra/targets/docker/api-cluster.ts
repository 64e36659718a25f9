import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DeployConfig } from "../../deployment";
import { WORKER_ENTRY_POINTS, WORKER_KINDS, apiName, NAMES, workerName } from "../../topology";
import { apiIp } from "./addresses";
import { appEnv, migrateEnv } from "./app-env";
import { httpHealthcheck, limits, LONG_RUNNING, onNetwork, type ContainerRole } from "./container-spec";
import { PATHS, type DockerContext } from "./context";
import { oneShotJob } from "./one-shot";

/** The app image's command for one entry point under services/src/main/ (compiled to dist/ by the Dockerfile). */
export const appCommand = (entry: string) => ["node", `dist/services/src/main/${entry}.js`];

/** What ApiCluster reads: every address, the network, the secrets, the app image, and what it waits for. */
export interface ApiClusterArgs extends Pick<DockerContext, "addresses" | "network" | "subnet" | "secretTopology"> {
  cfg: Pick<DeployConfig, "topology" | "secrets">;
  images: Pick<DockerContext["images"], "app">;
  /** What must be ready before the migrations (so every service) start: the stores and their jobs. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
  /** The shared volume the catalog publisher writes. */
  staticVolume: pulumi.Input<string>;
}

/**
 * The API slots (running: `api.replicas`; the rest created stopped for the autoscaler), the queue
 * workers and the tracker; a migration job runs first and every service waits for it.
 */
export class ApiCluster extends pulumi.ComponentResource {
  /** Every API slot, in slot order (running or not): nginx and the autoscaler start after them. */
  readonly slots: pulumi.Resource[];
  /** The API slots' container names, in slot order: the ones the autoscaler starts and stops. */
  readonly slotNames: string[];
  /** The migration job, once it succeeded: every service waits for it. */
  readonly migrated: pulumi.Output<pulumi.Resource>;

  constructor(name: string, args: ApiClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("floodgate:docker:ApiCluster", name, {}, opts);
    const t = args.cfg.topology;
    const a = args.addresses;
    const staticMount = [{ volumeName: args.staticVolume, containerPath: PATHS.staticDir }];
    // Replaced whenever the image or the schema's inputs change, so each new version migrates once, first.
    const migrate = oneShotJob(
      `${name}-migrate`,
      {
        name: "migrate",
        image: args.images.app,
        command: appCommand("migrate"),
        envs: args.secretTopology.apply((s) => migrateEnv(s, a)),
        networksAdvanced: onNetwork(args.network, "migrate"),
        ...limits("job", t),
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.dependsOn },
      Object.values(args.cfg.secrets),
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
          image: args.images.app,
          command: appCommand(entry),
          envs: env,
          volumes: staticMount,
          networksAdvanced: onNetwork(args.network, container),
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
    const slots: docker.Container[] = [];
    a.api.forEach((slot, i) => {
      const running = i < t.api.replicas;
      const env = args.secretTopology.apply((s) => appEnv(s, a, { id: apiName(i), port: slot.port }));
      // Readiness, as on every target: 503 only while draining or cut off from every dependency, so a
      // shared dependency's outage never marks every replica unhealthy (Docker restarts nothing on it;
      // `pulumi up` waits on it).
      const extra = {
        networksAdvanced: onNetwork(args.network, apiName(i), apiIp(args.subnet, i)),
        // Slots above api.replicas exist stopped; the autoscaler starts and stops them.
        ...(running ? {} : { start: false, mustRun: false, wait: false }),
        labels: [{ label: "floodgate.role", value: "api" }],
      };
      const container = service(apiName(i), "api", "api", env, slot.port, "/api/v1/health", extra, slots[i - 1]);
      slots.push(container);
    });
    for (const kind of WORKER_KINDS) {
      let previous: docker.Container | undefined;
      a.workers[kind].forEach((w, i) => {
        const id = workerName(kind, i);
        const concurrency = t.workers[kind].concurrency;
        const env = args.secretTopology.apply((s) => appEnv(s, a, { id, port: w.port, concurrency }));
        previous = service(id, "worker", WORKER_ENTRY_POINTS[kind], env, w.port, "/health", {}, previous);
      });
    }
    const trackerEnv = args.secretTopology.apply((s) => appEnv(s, a, { id: NAMES.tracker, port: a.tracker.port }));
    service(NAMES.tracker, "tracker", "tracker", trackerEnv, a.tracker.port, "/health");
    this.slots = slots;
    this.slotNames = a.api.map((_, i) => apiName(i));
    this.registerOutputs({ slots: this.slots, slotNames: this.slotNames, migrated: this.migrated });
  }
}
