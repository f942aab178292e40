import { nonceResponseSchema, signInRequestSchema, signInResponseSchema } from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { bearerToken } from '../../plugins.js'

export const authRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/auth/nonce',
    {
      schema: {
        tags: ['auth'],
        summary: 'A single-use nonce for a Sign-In with Ethereum message',
        response: { 200: nonceResponseSchema },
      },
    },
    async () => ctx.auth.createNonce(),
  )

  app.post(
    '/v1/auth/verify',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a signed EIP-4361 message for a session token',
        body: signInRequestSchema,
        response: { 200: signInResponseSchema },
      },
    },
    async (request) => ctx.auth.signIn(request.body),
  )

  app.post(
    '/v1/auth/revoke',
    { config: { auth: true }, schema: { tags: ['auth'], summary: 'Revoke the session token of this request' } },
    async (request, reply) => {
      await ctx.auth.revoke(bearerToken(request) as string)
      return reply.status(204).send()
    },
  )
}
