import type { Topology } from "./schema";

/**
 * The same topology with every port moved by `delta`: the test stack runs beside a
 * developer's `npm start` this way, on a disjoint set of ports.
 */
export function withPortOffset(t: Topology, delta: number): Topology {
  const shift = (p: number) => p + delta;
  return {
    ...t,
    nginx: { ...t.nginx, port: shift(t.nginx.port), statusPort: shift(t.nginx.statusPort) },
    api: { ...t.api, basePort: shift(t.api.basePort) },
    tracker: { port: shift(t.tracker.port) },
    autoscaling: { ...t.autoscaling, port: shift(t.autoscaling.port) },
    backups: { ...t.backups, port: shift(t.backups.port) },
    workers: { ...t.workers, metricsBasePort: shift(t.workers.metricsBasePort) },
    mysql: { ...t.mysql, primaryPort: shift(t.mysql.primaryPort), replicaBasePort: shift(t.mysql.replicaBasePort) },
    redis: { ...t.redis, basePort: shift(t.redis.basePort) },
    rabbitmq: {
      ...t.rabbitmq,
      port: shift(t.rabbitmq.port),
      managementPort: shift(t.rabbitmq.managementPort),
      prometheusPort: shift(t.rabbitmq.prometheusPort),
      distPort: shift(t.rabbitmq.distPort),
      epmdPort: shift(t.rabbitmq.epmdPort),
    },
    monitoring: {
      ...t.monitoring,
      prometheusPort: shift(t.monitoring.prometheusPort),
      alertmanagerPort: shift(t.monitoring.alertmanagerPort),
      exporterPorts: {
        node: shift(t.monitoring.exporterPorts.node),
        nginx: shift(t.monitoring.exporterPorts.nginx),
        redis: shift(t.monitoring.exporterPorts.redis),
        mysqldBase: shift(t.monitoring.exporterPorts.mysqldBase),
      },
    },
  };
}
