import {
  conversationsResponseSchema,
  MAX_CURSOR,
  messagesQuerySchema,
  messagesResponseSchema,
  openRoomRequestSchema,
  roomParamsSchema,
  roomResponseSchema,
} from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { AppContext } from '../../context.js'
import { sessionAddress } from '../../plugins.js'

const readRequestSchema = z.strictObject({ seq: z.number().int().nonnegative().max(MAX_CURSOR) })
const readResponseSchema = z.strictObject({ readSeq: z.number().int().nonnegative() })

export const roomRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/rooms',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'The conversation with a peer, created on first contact (random id)',
        body: openRoomRequestSchema,
        response: { 200: roomResponseSchema },
      },
    },
    async (request) => ({ room: await ctx.rooms.open(sessionAddress(request), request.body.peer) }),
  )

  app.get(
    '/v1/conversations',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Conversations of the signed-in wallet, most recent first',
        response: { 200: conversationsResponseSchema },
      },
    },
    async (request) => ({ conversations: await ctx.rooms.conversations(sessionAddress(request)) }),
  )

  app.get(
    '/v1/rooms/:room/messages',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Room history by cursor (the seq to continue after)',
        params: roomParamsSchema,
        querystring: messagesQuerySchema,
        response: { 200: messagesResponseSchema },
      },
    },
    async (request) => ctx.messages.history(sessionAddress(request), request.params.room, request.query),
  )

  app.post(
    '/v1/rooms/:room/read',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: 'Mark the room read up to a seq (for unread counts)',
        params: roomParamsSchema,
        body: readRequestSchema,
        response: { 200: readResponseSchema },
      },
    },
    async (request) => ctx.rooms.markRead(sessionAddress(request), request.params.room, request.body.seq),
  )
}
