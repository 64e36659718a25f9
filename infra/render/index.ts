/** Pure renderers: topology + addresses + paths in, config file contents out; no target baked in. */
export * from "./nginx";
export * from "./prometheus";
export * from "./alertmanager";
export * from "./mariadb";
export * from "./redis";
export * from "./rabbitmq";
export * from "./seaweedfs";
export * from "./job-shell";
export * from "./mysql-jobs";
export * from "./admin-gateway";
