/** Invite links of private rooms: register one you signed, list a room's, revoke one (docs/api.md, "Private rooms"). */
import {
  createInviteLinkRequestSchema,
  inviteLinkParamsSchema,
  inviteLinkResponseSchema,
  inviteLinksResponseSchema,
  roomParamsSchema,
} from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { sessionAddress } from '../../plugins.js'

export const roomLinkRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/rooms/:room/links',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Register an invite link the signed-in member signed (needs `invite`)',
        params: roomParamsSchema,
        body: createInviteLinkRequestSchema,
        response: { 200: inviteLinkResponseSchema },
      },
    },
    async (request) => ({
      link: await ctx.roomLinks.register(sessionAddress(request), request.params.room, request.body.link),
    }),
  )

  app.get(
    '/v1/rooms/:room/links',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: "A private room's invite links with their uses, newest first (needs `invite`)",
        params: roomParamsSchema,
        response: { 200: inviteLinksResponseSchema },
      },
    },
    async (request) => ({ links: await ctx.roomLinks.list(sessionAddress(request), request.params.room) }),
  )

  app.delete(
    '/v1/rooms/:room/links/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Revoke an invite link (its issuer, or a member with `invite`)',
        params: inviteLinkParamsSchema,
        response: { 200: inviteLinkResponseSchema },
      },
    },
    async (request) => ({
      link: await ctx.roomLinks.revoke(sessionAddress(request), request.params.room, request.params.id),
    }),
  )
}
