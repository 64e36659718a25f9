import type * as k8s from "@pulumi/kubernetes";
import { clusterServiceSpec } from "./object-specs";

/** The ClusterIP Service of a monitoring UI, and (only when an admin port is set) its LoadBalancer for admins. */
export function monitoringServiceSpecs(
  component: string,
  port: number,
  adminPort: number | undefined,
): { internal: k8s.types.input.core.v1.ServiceSpec; admin?: k8s.types.input.core.v1.ServiceSpec } {
  const internal = clusterServiceSpec(component, { http: port });
  if (adminPort === undefined) return { internal };
  // The UIs have no authentication of their own: published only when the stack asks for it.
  return {
    internal,
    admin: { ...internal, type: "LoadBalancer", ports: [{ name: "http", port: adminPort, targetPort: port }] },
  };
}
