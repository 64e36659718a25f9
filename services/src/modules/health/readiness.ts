import type { DependencyReport } from "./service";

/** What the public readiness endpoint says: ok, or why this replica should get no traffic. */
export type Readiness = "ok" | "draining" | "isolated";

/**
 * Readiness of one API replica. Every replica shares the same MariaDB servers, Redis and RabbitMQ,
 * so one of them being down says nothing about this replica: taking every replica out of rotation
 * for it would turn a partial outage (most routes still work) into a total one. A replica is
 * unready only for what is its own: it is draining after SIGTERM, or it reaches no dependency at
 * all (its network is cut, or it has not connected to anything yet). No report yet counts as the
 * latter.
 */
export function readiness(draining: boolean, report: DependencyReport | null): Readiness {
  if (draining) return "draining";
  if (!report) return "isolated";
  return Object.values(report.checks).some((c) => c.status === "up") ? "ok" : "isolated";
}
