import amqp from "amqplib";
import mysql from "mysql2/promise";
import type { HostPort } from "../../infra/topology";
import { mysqlSockets } from "../../infra/targets/local/components/mysql";
import { amqpUrl } from "../../infra/targets/local/components/rabbitmq";
import { present } from "../support/checked";
import { testAddresses, testLayout, testTopology } from "./test-stack";

type MysqlRole = "app" | "migrator";

/** A MySQL connection to one server of the test stack as one of the topology's users. */
export function mysqlAs(role: MysqlRole, server: HostPort): Promise<mysql.Connection> {
  const t = testTopology();
  const { name, password } = t.mysql.users[role];
  return mysql.createConnection({
    host: server.host,
    port: server.port,
    user: name,
    password,
    database: t.mysql.database,
  });
}

/** The Unix socket of one MariaDB server of the test stack ("mysql-primary", "mysql-replica-1"), for root statements. */
export function mysqlSocket(server: string): string {
  return present(mysqlSockets({ addresses: testAddresses(), layout: testLayout() })[server], `the socket of ${server}`);
}

export { eventually } from "../../scripts/load/target";

/** GET JSON from a test-stack URL. */
export async function getJson<T = unknown>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as T };
}

/** What the broker itself says about a queue of the test stack (the management API lags by its stats interval). */
export async function liveQueue(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const connection = await amqp.connect(amqpUrl({ topology: testTopology(), addresses: testAddresses() }, "app"));
  try {
    return await (await connection.createChannel()).checkQueue(queue);
  } finally {
    await connection.close();
  }
}

export { testAddresses, testTopology };
