import { healthResponseSchema, MAX_TEXT_LENGTH, serverInfoResponseSchema, version } from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'

const startedAt = Date.now()

export const healthRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['server'],
        summary: 'Liveness, database reachability and whether the server can write',
        response: { 200: healthResponseSchema, 503: healthResponseSchema },
      },
    },
    async (_request, reply) => {
      await ctx.database.ping()
      const storage = ctx.database.storage
      // A write that failed for want of space, or a disk with (almost) nothing left on it.
      const full = storage !== undefined && (storage.full || (await storage.nearlyFull()))
      const uptimeSeconds = Math.round((Date.now() - startedAt) / 1000)
      if (full) return reply.code(503).send({ status: 'degraded' as const, storage: 'full' as const, version, uptimeSeconds })
      return { status: 'ok' as const, storage: 'ok' as const, version, uptimeSeconds }
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
