import { principal } from "../../platform/auth";
import type { ApiRouter } from "../../platform/api-router";
import { requireIdempotencyKey } from "../../platform/idempotency";
import type { Platform } from "../../platform/platform";
import {
  CreatedRedPacketSchema,
  CreateRedPacketSchema,
  GrabSchema,
  RedPacketIdParamsSchema,
  RedPacketViewSchema,
} from "./schema";
import { RedPacketService } from "./service";

/** Timed red packets: create (the creator pays, split at once), grab (decided in Redis, persisted by workers), view. */
export function redPacketsRoutes(api: ApiRouter, p: Platform): void {
  const packets = new RedPacketService(p);
  api.route(
    {
      method: "post",
      path: "/red-packets",
      summary:
        "Create a red packet, paid from your balance: split at once into count random parts of at least 1 cent; " +
        "the Idempotency-Key header (UUID) is required and makes retries safe",
      tag: "red-packets",
      auth: "user",
      body: CreateRedPacketSchema,
      responses: {
        201: { description: "created and debited; grabbable at once", schema: CreatedRedPacketSchema },
        200: {
          description: "the packet this Idempotency-Key already created (debited once)",
          schema: CreatedRedPacketSchema,
        },
        400: { description: "validation_failed (also: no Idempotency-Key UUID)" },
        409: { description: "insufficient_balance; idempotency_key_reused (the key made another packet)" },
        503: { description: "unavailable: debited but not yet open for grabs; retry with the same Idempotency-Key" },
      },
    },
    async function createRedPacket(ctx) {
      const key = requireIdempotencyKey(ctx);
      const { id, created } = await packets.create(principal(ctx).userId, ctx.state.body, key);
      ctx.status = created ? 201 : 200;
      ctx.body = { id };
    },
  );
  api.route(
    {
      method: "post",
      path: "/red-packets/:id/grabs",
      summary: "Grab a part: decided atomically in Redis, credited to the balance by a worker",
      tag: "red-packets",
      auth: "user",
      params: RedPacketIdParamsSchema,
      responses: {
        200: { description: "your share", schema: GrabSchema },
        400: { description: "validation_failed: not a red packet id as created (<number>.<token>)" },
        404: { description: "not_found (also: a wrong token)" },
        409: { description: "already_grabbed (details.amountCents is your share)" },
        410: { description: "empty or expired" },
        503: { description: "unavailable: outcome unknown, retry (a retry after a success answers 409)" },
      },
    },
    async function grabRedPacket(ctx) {
      const { id } = ctx.state.params;
      ctx.body = await packets.grab(id, principal(ctx).userId);
    },
  );
  api.route(
    {
      method: "get",
      path: "/red-packets/:id",
      summary:
        "A red packet and its persisted grabs (admitted grabs appear once a worker commits them); " +
        "the grabs are shown to the creator and to those who grabbed",
      tag: "red-packets",
      auth: "user",
      params: RedPacketIdParamsSchema,
      responses: {
        200: { description: "the packet", schema: RedPacketViewSchema },
        400: { description: "validation_failed: not a red packet id as created (<number>.<token>)" },
        404: { description: "not_found (also: a wrong token)" },
      },
    },
    async function viewRedPacket(ctx) {
      const { id } = ctx.state.params;
      ctx.body = await packets.view(id, principal(ctx).userId);
    },
  );
}
