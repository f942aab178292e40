import {
  ackRequestSchema,
  inboxQuerySchema,
  inboxResponseSchema,
  sendMessageRequestSchema,
  sendMessageResponseSchema,
} from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { AppContext } from '../../context.js'
import { HttpError } from '../../errors.js'
import { sessionAddress } from '../../plugins.js'

export const messageRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/messages',
    {
      config: { auth: true },
      schema: {
        tags: ['messages'],
        summary: 'Send a signed envelope (and, in a room without E2EE, its content); answered once durably stored',
        body: sendMessageRequestSchema,
        response: { 200: sendMessageResponseSchema },
      },
    },
    async (request) => ctx.messages.send(sessionAddress(request), request.body.envelope, request.body.content),
  )

  app.get(
    '/v1/inbox',
    {
      config: { auth: true },
      schema: {
        tags: ['messages'],
        summary: "Every position of the wallet's rooms after a stream cursor (what the stream replays)",
        querystring: inboxQuerySchema,
        response: { 200: inboxResponseSchema },
      },
    },
    async (request) => ctx.messages.inbox(sessionAddress(request), request.query.after, request.query.limit),
  )

  app.post(
    '/v1/inbox/ack',
    {
      config: { auth: true },
      schema: {
        tags: ['messages'],
        summary: 'Acknowledge delivery up to a cursor (streams resume after it by default)',
        body: ackRequestSchema,
        response: { 200: z.strictObject({ acked: z.number().int() }) },
      },
    },
    async (request) => {
      const address = sessionAddress(request)
      if (!(await ctx.messages.ack(address, request.body.cursor))) {
        throw new HttpError({ code: 'position_out_of_range', message: 'The cursor is beyond the newest stream position.' })
      }
      return { acked: (await ctx.messages.streamState(address)).acked }
    },
  )
}
