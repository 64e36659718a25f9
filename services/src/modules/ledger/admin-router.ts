import type { ApiRouter } from "../../platform/api-router";
import { requireIdempotencyKey } from "../../platform/idempotency";
import type { Platform } from "../../platform/platform";
import { readConservation } from "./conservation";
import { BalanceSchema, ConservationSchema, TopUpSchema, UserIdParamsSchema } from "./schema";
import { topUp } from "./service";

/** Administrators credit users (every credit is a ledger row) and check that money is conserved. */
export function ledgerAdminRoutes(api: ApiRouter, p: Platform): void {
  api.route(
    {
      method: "post",
      path: "/admin/users/:id/credits",
      summary: "Credit a user's balance (a top-up); the Idempotency-Key header (UUID) is required",
      tag: "ledger",
      auth: "admin",
      params: UserIdParamsSchema,
      body: TopUpSchema,
      responses: {
        201: { description: "credited: the balance after it", schema: BalanceSchema },
        200: {
          description: "this Idempotency-Key already credited the user: the balance it left",
          schema: BalanceSchema,
        },
        400: { description: "validation_failed (also: no Idempotency-Key UUID)" },
        404: { description: "not_found: no such user" },
        409: { description: "idempotency_key_reused: the key credited another user or amount" },
      },
    },
    async function creditUser(ctx) {
      const key = requireIdempotencyKey(ctx);
      const { id } = ctx.state.params;
      const { balanceCents, created } = await topUp(p, id, ctx.state.body.amountCents, key);
      ctx.status = created ? 201 : 200;
      ctx.body = { balanceCents };
    },
  );
  api.route(
    {
      method: "get",
      path: "/admin/ledger/conservation",
      summary: "Check now, in one consistent snapshot, that money is conserved (what LedgerImbalance watches)",
      tag: "ledger",
      auth: "admin",
      responses: { 200: { description: "the check's figures", schema: ConservationSchema } },
    },
    async function conservation(ctx) {
      ctx.set("Cache-Control", "no-store");
      ctx.body = await p.db.transaction(null, (tx) => readConservation(tx));
    },
  );
}
