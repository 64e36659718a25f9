import { rootSql } from "../../infra/targets/local/components/mysql";
import { buildUser, call, replicaBase } from "../support/api";
import { buildProduct } from "../support/db";
import { mysqlSocket } from "../stack/clients";

const replicaSocket = () => mysqlSocket("mysql-replica-1");

describe("read-your-writes with a lagging replica", () => {
  afterEach(async () => {
    await rootSql(replicaSocket(), "START SLAVE SQL_THREAD");
  });

  it("shows a user their own new order at once on every replica while the replica's SQL thread is stopped", async () => {
    const user = await buildUser();
    const product = await buildProduct();
    await rootSql(replicaSocket(), "STOP SLAVE SQL_THREAD");

    const order = await call<{ id: number }>("POST", "/orders", { token: user.token, body: { productId: product.id } });
    expect(order.status).toBe(201);
    for (const base of [undefined, replicaBase(0), replicaBase(1)]) {
      const list = await call<{ items: Array<{ id: number }> }>("GET", "/orders", { token: user.token, base });
      expect(list.status).toBe(200);
      expect(list.body.items.map((o) => o.id)).toEqual([order.body.id]);
    }
  });

  it("still serves other users from the replica while it lags (their reads do not need the new row)", async () => {
    const writer = await buildUser();
    const reader = await buildUser();
    const product = await buildProduct();
    await rootSql(replicaSocket(), "STOP SLAVE SQL_THREAD");
    await call("POST", "/orders", { token: writer.token, body: { productId: product.id } });
    // The replica does not have the writer's order; proving it shows the reads above came from the primary.
    const onReplica = await rootSql(
      replicaSocket(),
      `SELECT COUNT(*) FROM floodgate.orders WHERE user_id = ${Number(writer.id)}`,
    );
    expect(onReplica.trim()).toBe("0");
    const list = await call<{ items: unknown[] }>("GET", "/orders", { token: reader.token });
    expect(list).toMatchObject({ status: 200, body: { items: [] } });
  });
});
