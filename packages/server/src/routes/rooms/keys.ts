/** Private rooms' keys: upload a rotation, fetch one's own wrapped keys (docs/api.md, "Private rooms"). */
import {
  roomKeysQuerySchema,
  roomKeysResponseSchema,
  roomParamsSchema,
  rotateRoomKeyRequestSchema,
  rotateRoomKeyResponseSchema,
} from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { sessionAddress } from '../../plugins.js'

/** A rotation of up to 32 pages of 1,024 wraps (~230 KiB each). */
const ROTATION_BODY_BYTES = 8 * 1024 * 1024

export const roomKeyRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/rooms/:room/keys',
    {
      bodyLimit: ROTATION_BODY_BYTES,
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: "Rotate a private room's key: the signed intent and the new key wrapped to every member",
        params: roomParamsSchema,
        body: rotateRoomKeyRequestSchema,
        response: { 200: rotateRoomKeyResponseSchema },
      },
    },
    async (request) => ({
      encryption: await ctx.roomKeys.rotate(sessionAddress(request), request.params.room, request.body),
    }),
  )

  app.get(
    '/v1/rooms/:room/keys',
    {
      config: { auth: true },
      schema: {
        tags: ['rooms'],
        summary: "The signed-in member's wrapped keys of a private room, after an epoch",
        params: roomParamsSchema,
        querystring: roomKeysQuerySchema,
        response: { 200: roomKeysResponseSchema },
      },
    },
    async (request) => ctx.roomKeys.deliveries(sessionAddress(request), request.params.room, request.query),
  )
}
