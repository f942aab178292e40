import { healthResponseSchema, MAX_TEXT_LENGTH, serverInfoResponseSchema, version } from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'

const startedAt = Date.now()

export const healthRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/health',
    { schema: { tags: ['server'], summary: 'Liveness and database reachability', response: { 200: healthResponseSchema } } },
    async () => {
      await ctx.database.ping()
      return { status: 'ok' as const, version, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }
    },
  )

  app.get(
    '/v1/info',
    {
      // Discovery must work for every client, with or without an API key.
      config: { apiKey: false },
      schema: {
        tags: ['server'],
        summary: 'What clients need to sign in and set up keys',
        response: { 200: serverInfoResponseSchema },
      },
    },
    async () => ({
      domain: ctx.identity.domain,
      url: ctx.identity.url,
      chainId: ctx.identity.chainId,
      version,
      chain: ctx.chain
        ? {
            chainId: ctx.chain.info.chainId,
            rpcUrl: ctx.chain.info.rpcUrl,
            registry: ctx.chain.info.registry,
            operator: ctx.chain.info.operator,
          }
        : null,
      limits: {
        maxTextLength: MAX_TEXT_LENGTH,
        maxBodyBytes: ctx.config.limits.bodyBytes,
        messagesPerSecond: ctx.config.limits.messagesPerSecond,
      },
    }),
  )
}
