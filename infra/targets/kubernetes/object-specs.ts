import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { runAsImageUser, type BuiltImage } from "./image-users";
import { resources, type Size } from "./pod-spec";

type Container = k8s.types.input.core.v1.Container;

/** A one-shot Job running `script` with sh: retried on failure, never probed. */
export interface ScriptJob {
  image: pulumi.Input<string>;
  /** Which Debian-built image `image` is: the job runs as its user. */
  imageUser: BuiltImage;
  script: string;
  size: Size;
  /** Pod labels: the client labels that let it through the stores' NetworkPolicies. */
  labels: Record<string, string>;
  env?: Container["env"];
  volumeMounts?: Container["volumeMounts"];
  volumes?: pulumi.Input<pulumi.Input<k8s.types.input.core.v1.Volume>[]>;
  /** The pod's security context, e.g. an fsGroup for a claim the image's user writes. */
  podSecurityContext?: k8s.types.input.core.v1.PodSecurityContext;
}

/** The spec of a Job that runs one script until it succeeds. */
export function scriptJobSpec(job: ScriptJob): k8s.types.input.batch.v1.JobSpec {
  return {
    backoffLimit: 10,
    template: {
      metadata: { labels: job.labels },
      spec: {
        restartPolicy: "OnFailure",
        securityContext: job.podSecurityContext,
        containers: [
          {
            name: "job",
            image: job.image,
            command: ["sh", "-c", job.script],
            env: job.env,
            volumeMounts: job.volumeMounts,
            resources: resources(job.size),
            securityContext: runAsImageUser(job.imageUser),
          },
        ],
        volumes: job.volumes,
      },
    },
  };
}

/** A ClusterIP Service selecting one component's pods, each port forwarded to the same container port. */
export function clusterServiceSpec(
  component: string,
  ports: Record<string, number>,
  extra: Partial<k8s.types.input.core.v1.ServiceSpec> = {},
): k8s.types.input.core.v1.ServiceSpec {
  return {
    selector: { "app.kubernetes.io/name": component },
    ports: Object.entries(ports).map(([name, port]) => ({ name, port, targetPort: port })),
    ...extra,
  };
}

/** A secret key as a container's environment variable. */
export function secretEnv(name: string, secret: pulumi.Input<string>, key: string): k8s.types.input.core.v1.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}
