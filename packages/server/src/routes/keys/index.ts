import {
  addressParamsSchema,
  keyBundleResponseSchema,
  keyBundleSchema,
  keyByCidParamsSchema,
  keyHistoryResponseSchema,
  putKeyBundleResponseSchema,
} from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { HttpError } from '../../errors.js'
import { sessionAddress } from '../../plugins.js'

const notRegistered = (address: string) =>
  new HttpError({ code: 'key_not_found', message: `${address} has not set up DMTP keys.` })

export const keyRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/v1/keys/:address',
    {
      schema: {
        tags: ['keys'],
        summary: "A wallet's current key bundle (public; verify it before use)",
        params: addressParamsSchema,
        response: { 200: keyBundleResponseSchema },
      },
    },
    async (request) => {
      const current = await ctx.keys.getCurrent(request.params.address)
      if (!current) throw notRegistered(request.params.address)
      return { address: request.params.address, cid: current.cid, bundle: current.bundle, createdAt: current.createdAt }
    },
  )

  app.get(
    '/v1/keys/:address/history',
    {
      schema: {
        tags: ['keys'],
        summary: 'Every key bundle a wallet registered, oldest first (old messages name old keys)',
        params: addressParamsSchema,
        response: { 200: keyHistoryResponseSchema },
      },
    },
    async (request) => {
      const bundles = await ctx.keys.getHistory(request.params.address)
      if (bundles.length === 0) throw notRegistered(request.params.address)
      return { address: request.params.address, bundles }
    },
  )

  app.get(
    '/v1/key-bundles/:cid',
    {
      schema: {
        tags: ['keys'],
        summary: 'A key bundle by its CID (the key id messages carry)',
        params: keyByCidParamsSchema,
        response: { 200: keyBundleResponseSchema },
      },
    },
    async (request) => {
      const found = await ctx.keys.getByCid(request.params.cid)
      if (!found) throw new HttpError({ code: 'key_not_found', message: 'No key bundle with this CID.' })
      return found
    },
  )

  app.put(
    '/v1/keys',
    {
      config: { auth: true },
      schema: {
        tags: ['keys'],
        summary: 'Register or rotate the signed-in wallet’s key bundle',
        body: keyBundleSchema,
        response: { 200: putKeyBundleResponseSchema },
      },
    },
    // A rotation is anchored before it is acknowledged (the anchoring service sends it).
    async (request) => ctx.keys.put(sessionAddress(request), request.body, { anchorer: ctx.anchoring }),
  )
}
