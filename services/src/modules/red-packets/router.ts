import { principal } from "../../platform/auth";
import type { ApiRouter } from "../../platform/api-router";
import type { Platform } from "../../platform/platform";
import {
  CreatedRedPacketSchema,
  CreateRedPacketSchema,
  GrabSchema,
  RedPacketIdParamsSchema,
  RedPacketViewSchema,
  type CreateRedPacketReq,
  type RedPacketIdParams,
} from "./schema";
import { RedPacketService } from "./service";

/** Timed red packets: create (split at once), grab (decided in Redis, persisted by workers), view. */
export function redPacketsRoutes(api: ApiRouter, p: Platform): void {
  const packets = new RedPacketService(p);
  api.route(
    {
      method: "post",
      path: "/red-packets",
      summary: "Create a red packet: the amount is split at once into count random parts of at least 1 cent",
      tag: "red-packets",
      auth: "user",
      body: CreateRedPacketSchema,
      responses: {
        201: { description: "created; grabbable at once", schema: CreatedRedPacketSchema },
        503: { description: "unavailable: Redis could not take the parts (refunded at expiry)" },
      },
    },
    async function createRedPacket(ctx) {
      ctx.status = 201;
      ctx.body = await packets.create(principal(ctx).userId, ctx.state.body as CreateRedPacketReq);
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
        400: { description: "validation_failed: not a packet id" },
        404: { description: "not_found" },
        409: { description: "already_grabbed (details.amountCents is your share)" },
        410: { description: "empty or expired" },
        503: { description: "unavailable: outcome unknown, retry (a retry after a success answers 409)" },
      },
    },
    async function grabRedPacket(ctx) {
      const { id } = ctx.state.params as RedPacketIdParams;
      ctx.body = await packets.grab(id, principal(ctx).userId);
    },
  );
  api.route(
    {
      method: "get",
      path: "/red-packets/:id",
      summary: "A red packet and its persisted grabs (admitted grabs appear once a worker commits them)",
      tag: "red-packets",
      auth: "user",
      params: RedPacketIdParamsSchema,
      responses: {
        200: { description: "the packet", schema: RedPacketViewSchema },
        400: { description: "validation_failed: not a packet id" },
        404: { description: "not_found" },
      },
    },
    async function viewRedPacket(ctx) {
      const { id } = ctx.state.params as RedPacketIdParams;
      ctx.body = await packets.view(id);
    },
  );
}
