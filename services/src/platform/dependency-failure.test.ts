import path from "node:path";
import { ReplyError } from "ioredis";
import ClusterAllFailedError from "ioredis/built/errors/ClusterAllFailedError";
import { MaxRetriesPerRequestError } from "ioredis/built/errors";
import { PoolError } from "./db-pool";
import { unavailableDependency } from "./dependency-failure";
import { PublishError } from "./mq";

// The drivers' own error classes, which they do not export with types.
type ErrorClass = new (message: string, more?: string) => Error;
const { AbortError } = require("redis-errors") as { AbortError: ErrorClass };
const { IllegalOperationError } = require(path.join(path.dirname(require.resolve("amqplib")), "lib", "error.js")) as {
  IllegalOperationError: ErrorClass;
};

const withCode = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(code), { code, ...extra });

describe("unavailableDependency", () => {
  const table: Array<[label: string, err: unknown, expected: string | null]> = [
    // MySQL: away, read-only, out of time, out of pool
    ["a refused connection", withCode("ECONNREFUSED"), "mysql"],
    ["a lost connection (mysql2 marks it fatal)", withCode("PROTOCOL_CONNECTION_LOST", { fatal: true }), "mysql"],
    ["a read-only server (failover in progress)", withCode("ER_OPTION_PREVENTS_STATEMENT", { errno: 1290 }), "mysql"],
    ["mysql2's query inactivity timeout", withCode("PROTOCOL_SEQUENCE_TIMEOUT"), "mysql"],
    ["InnoDB's lock wait timeout", withCode("ER_LOCK_WAIT_TIMEOUT", { errno: 1205 }), "mysql"],
    ["our statement timeout", new PoolError("DB_STATEMENT_TIMEOUT", "no answer"), "mysql"],
    ["our acquire timeout", new PoolError("DB_ACQUIRE_TIMEOUT", "no connection"), "mysql"],
    ["a full pool queue", new PoolError("DB_QUEUE_FULL", "queue full"), "mysql"],
    ["a closed pool (shutting down)", new PoolError("DB_POOL_CLOSED", "closed"), "mysql"],
    // Redis: connection-level failures of ioredis
    ["ioredis's connection closed", new Error("Connection is closed."), "redis"],
    ["ioredis's command timeout", new Error("Command timed out"), "redis"],
    ["ioredis's max retries per request", new MaxRetriesPerRequestError(1), "redis"],
    [
      "ioredis's cluster-all-failed",
      new ClusterAllFailedError("Failed to refresh slots cache.", new Error("connect ECONNREFUSED")),
      "redis",
    ],
    ["a command aborted with its connection", new AbortError("Command aborted due to connection close"), "redis"],
    ["the offline queue refusal", new Error("Cluster isn't ready and enableOfflineQueue options is false"), "redis"],
    ["the Redis breaker while it cools down", new Error("redis circuit open"), "redis"],
    ["a CLUSTERDOWN reply", new ReplyError("CLUSTERDOWN The cluster is down"), "redis"],
    ["a TRYAGAIN reply during resharding", new ReplyError("TRYAGAIN Multiple keys request during rehashing"), "redis"],
    // RabbitMQ
    ["amqplib's closed channel", new IllegalOperationError("Channel closed", ""), "rabbitmq"],
    ["an unconfirmed publish", new PublishError("no confirm within 2000 ms", "unconfirmed"), "rabbitmq"],
    // Bugs stay bugs
    ["a duplicate key", withCode("ER_DUP_ENTRY", { errno: 1062 }), null],
    ["an SQL syntax error", withCode("ER_PARSE_ERROR", { errno: 1064 }), null],
    ["a script's own error reply", new ReplyError("ERR Error running script: attempt to compare nil"), null],
    ["a wrong-type reply", new ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"), null],
    ["a TypeError", new TypeError("Cannot read properties of undefined (reading 'id')"), null],
    ["a plain Error", new Error("boom"), null],
    ["a thrown string", "boom", null],
    ["null", null, null],
  ];
  it.each(table.map(([label, err, expected]) => ({ label, err, expected })))(
    "classifies $label as $expected",
    ({ err, expected }) => {
      expect(unavailableDependency(err)).toBe(expected);
    },
  );
});
