import {
  keyBundleResponseSchema,
  migrationsQuerySchema,
  migrationsResponseSchema,
  uploadMigrationsRequestSchema,
  uploadMigrationsResponseSchema,
} from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { sessionAddress } from '../../plugins.js'

/** Largest migration upload accepted. */
const MIGRATION_BODY_BYTES = 4 * 1024 * 1024

export const migrationRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/v1/server-key',
    {
      schema: {
        tags: ['keys'],
        summary: "The server's own key bundle, for messages to wallets without keys (pattern β); signed by the registry owner",
        response: { 200: keyBundleResponseSchema },
      },
    },
    async () => {
      const key = ctx.serverKey.get()
      const stored = await ctx.keys.getByCid(key.cid)
      return { address: key.address, cid: key.cid, bundle: key.bundle, createdAt: stored?.createdAt ?? new Date(0).toISOString() }
    },
  )

  app.get(
    '/v1/migrations',
    {
      config: { auth: true },
      schema: {
        tags: ['messages'],
        summary: 'Handoffs of relayed messages for the signed-in wallet to make end-to-end (pattern β)',
        querystring: migrationsQuerySchema,
        response: { 200: migrationsResponseSchema },
      },
    },
    async (request, reply) => {
      const page = await ctx.migrations.list(sessionAddress(request), request.query)
      // Handoffs are stored as their canonical JSON: spliced in, not parsed and serialized again
      // (a page is ~0.75 MB).
      const body = `{"handoffs":[${page.handoffs.join(',')}],"remaining":${page.remaining},"next":${JSON.stringify(page.next)}}`
      return reply.type('application/json; charset=utf-8').send(body as never)
    },
  )

  app.post(
    '/v1/migrations',
    {
      config: { auth: true },
      // Up to 500 envelopes of up to ~65 KB each would be 32 MB; clients batch by size (~1 MB).
      bodyLimit: MIGRATION_BODY_BYTES,
      schema: {
        tags: ['messages'],
        summary: 'Replace relayed messages by the migrated envelopes the receiver made (all or nothing)',
        body: uploadMigrationsRequestSchema,
        response: { 200: uploadMigrationsResponseSchema },
      },
    },
    async (request) => ctx.migrations.upload(sessionAddress(request), request.body.envelopes),
  )
}
