import { principal } from "../../platform/auth";
import type { ApiRouter } from "../../platform/api-router";
import type { Platform } from "../../platform/platform";
import { PrivateProfileSchema, ProfileParamsSchema, PublicProfileSchema, UpdateProfileSchema } from "./schema";
import { getOwnProfile, getPublicProfile, updateOwnProfile } from "./service";

/** The caller's own profile (private) and anyone's public profile. */
export function profilesRoutes(api: ApiRouter, p: Platform): void {
  api.route(
    {
      method: "get",
      path: "/me",
      summary: "The caller's own profile, including private fields",
      tag: "profiles",
      auth: "user",
      responses: {
        200: { description: "the private view", schema: PrivateProfileSchema },
        404: { description: "not_found: the token's user no longer exists" },
      },
    },
    async function ownProfile(ctx) {
      ctx.body = await getOwnProfile(p, principal(ctx).userId);
    },
  );
  api.route(
    {
      method: "patch",
      path: "/me",
      summary: "Change the caller's own display name, bio, email or phone",
      tag: "profiles",
      auth: "user",
      body: UpdateProfileSchema,
      responses: {
        200: { description: "the updated private view", schema: PrivateProfileSchema },
        400: { description: "validation_failed (also for fields that are not the client's to set)" },
        404: { description: "not_found: the token's user no longer exists" },
      },
    },
    async function updateOwn(ctx) {
      ctx.body = await updateOwnProfile(p, principal(ctx).userId, ctx.state.body);
    },
  );
  // Public by design: the view holds only what a user shows everyone, so it needs no token (and
  // therefore has no per-user limit; the per-address limit applies).
  api.route(
    {
      method: "get",
      path: "/users/:id/profile",
      summary: "A user's public profile",
      tag: "profiles",
      auth: "none",
      params: ProfileParamsSchema,
      responses: {
        200: { description: "the public view", schema: PublicProfileSchema },
        400: { description: "validation_failed: the id is not a positive integer" },
        404: { description: "not_found" },
      },
    },
    async function publicProfile(ctx) {
      ctx.body = await getPublicProfile(p, ctx.state.params.id);
    },
  );
}
