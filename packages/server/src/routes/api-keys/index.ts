/**
 * API keys of the signed-in wallet's own dApps: create (the key is in this answer only), list
 * (without secrets), revoke. A wallet sees and revokes only its own keys; another wallet's key is
 * `api_key_not_found`, as if it did not exist. Operators manage keys with `dmtp apikey`.
 */
import { apiKeyParamsSchema, apiKeysResponseSchema, createApiKeyRequestSchema, createApiKeyResponseSchema } from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { sessionAddress } from '../../plugins.js'

export const apiKeyRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/api-keys',
    {
      config: { auth: true },
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key for a dApp of the signed-in wallet (the key is shown once)',
        security: [{ bearer: [] }],
        body: createApiKeyRequestSchema,
        response: { 201: createApiKeyResponseSchema },
      },
    },
    async (request, reply) => {
      const created = await ctx.apiKeys.create({ ...request.body, owner: sessionAddress(request) })
      return reply.status(201).send(created)
    },
  )

  app.get(
    '/v1/api-keys',
    {
      config: { auth: true },
      schema: {
        tags: ['api-keys'],
        summary: "The signed-in wallet's API keys, revoked ones included, without secrets",
        security: [{ bearer: [] }],
        response: { 200: apiKeysResponseSchema },
      },
    },
    async (request) => {
      const keys = await ctx.apiKeys.list(sessionAddress(request))
      return { apiKeys: keys.map(({ owner: _owner, ...key }) => key) }
    },
  )

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an API key of the signed-in wallet (at once on this server)',
        security: [{ bearer: [] }],
        params: apiKeyParamsSchema,
      },
    },
    async (request, reply) => {
      await ctx.apiKeys.revoke(request.params.id, sessionAddress(request))
      return reply.status(204).send()
    },
  )
}
