import { Counter, Gauge } from "prom-client";

/** The backup service's metrics (names are what monitoring/rules/backups.yml watches). */
export const backupMetrics = {
  lastSuccess: new Gauge({
    name: "floodgate_backup_last_success_timestamp_seconds",
    help: "When the last successful backup of each kind finished (unix seconds)",
    labelNames: ["kind"] as const,
  }),
  lastSize: new Gauge({
    name: "floodgate_backup_last_size_bytes",
    help: "Size of the last successful backup of each kind",
    labelNames: ["kind"] as const,
  }),
  lastDuration: new Gauge({
    name: "floodgate_backup_last_duration_seconds",
    help: "How long the last successful backup of each kind took",
    labelNames: ["kind"] as const,
  }),
  failures: new Counter({
    name: "floodgate_backup_failures_total",
    help: "Backups that failed, by kind",
    labelNames: ["kind"] as const,
  }),
  drillLastRun: new Gauge({
    name: "floodgate_restore_drill_last_run_timestamp_seconds",
    help: "When the last restore drill ran (unix seconds)",
  }),
  drillLastSuccess: new Gauge({
    name: "floodgate_restore_drill_last_success_timestamp_seconds",
    help: "When a restore drill last verified a backup (unix seconds)",
  }),
  drillOk: new Gauge({
    name: "floodgate_restore_drill_ok",
    help: "1 when the last restore drill verified its backup, 0 when it failed",
  }),
  drillRpo: new Gauge({
    name: "floodgate_restore_drill_rpo_seconds",
    help: "Age of the backup the last drill restored",
  }),
  drillRto: new Gauge({
    name: "floodgate_restore_drill_rto_seconds",
    help: "How long the last drill took to restore its backup",
  }),
};
