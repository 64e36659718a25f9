import { isDatabaseUnavailable } from "./db";

/** Which shared dependency an error says is away or too busy right now. */
export type UnavailableDependency = "mysql" | "redis" | "rabbitmq";

// ioredis reports a lost or unusable connection as plain Errors; these are their messages (or the
// start of them). A command's own failure arrives as a ReplyError instead.
const REDIS_CONNECTION_MESSAGES = [
  "Connection is closed.",
  "Command timed out",
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  "Cluster is disconnected.",
  "Cluster is disconnecting.",
  "None of startup nodes is available",
  "Node is disconnected",
  "Too many Cluster redirections",
  "Socket timeout",
  "redis circuit open", // RedisBreaker: skipped while Redis cools down
];
// ioredis's connection-level error classes (AbortError: a command dropped with its connection).
const REDIS_CONNECTION_ERRORS = new Set(["MaxRetriesPerRequestError", "ClusterAllFailedError", "AbortError"]);
// Replies that say the cluster cannot serve the slot for now (failover, loading, no quorum).
const REDIS_TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY)\b/;

// amqplib: an operation on a closed channel or connection; ours: a publish without a confirm.
const BROKER_ERRORS = new Set(["IllegalOperationError", "PublishError"]);

/**
 * The dependency that `err` says is unavailable (down, frozen, failing over, its pool exhausted),
 * or null when `err` is anything else — a bug, which stays a 500. Such failures are worth a retry
 * shortly, so the API answers 503 with Retry-After.
 */
export function unavailableDependency(err: unknown): UnavailableDependency | null {
  if (isDatabaseUnavailable(err)) return "mysql";
  if (!(err instanceof Error)) return null;
  const { name, message } = err;
  if (REDIS_CONNECTION_ERRORS.has(name) || (name === "RedisError" && /^Connection/.test(message))) return "redis";
  if (name === "ReplyError") return REDIS_TRANSIENT_REPLY.test(message) ? "redis" : null;
  if (REDIS_CONNECTION_MESSAGES.some((m) => message.startsWith(m))) return "redis";
  if (BROKER_ERRORS.has(name)) return "rabbitmq";
  return null;
}
