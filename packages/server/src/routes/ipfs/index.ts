/**
 * A read-only IPFS trustless gateway for DMTP blocks
 * (https://specs.ipfs.tech/http-gateways/trustless-gateway/): `GET /ipfs/{cid}` answers the raw
 * block, `application/vnd.ipld.raw`, which a client verifies by hashing it against the CID, so it
 * need not trust this server. HEAD comes from Fastify with the same headers. Public: blocks are
 * ciphertext envelopes, public key bundles and manifests, public by design.
 *
 * The CID is checked by the service, not the params schema, so a bad one is `invalid_request`
 * with a message about CIDs rather than a generic validation failure.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { AppContext } from '../../context.js'
import { getBlock } from '../../services/blocks/get-block.js'

const paramsSchema = z.strictObject({
  cid: z.string().describe('A CIDv1 with a sha2-256 multihash (the `cid` of a message, key bundle or manifest)'),
})

// Documents raw bytes in OpenAPI (a binary string); the handler returns a Buffer, sent as is.
const rawBlockSchema = z.custom<Buffer>().meta({
  type: 'string',
  format: 'binary',
  description: 'The block, raw: canonical DAG-JSON bytes whose sha2-256 is the CID',
})

// A block never changes under its CID: cacheable for a year (as IPFS gateways do), by anyone.
const IMMUTABLE = 'public, max-age=29030400, immutable'

export const ipfsRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/ipfs/:cid',
    {
      schema: {
        tags: ['blocks'],
        summary: 'A block (envelope, key bundle or manifest) by CID, as an IPFS trustless gateway serves it (public)',
        params: paramsSchema,
        produces: ['application/vnd.ipld.raw'],
        response: { 200: rawBlockSchema },
      },
    },
    async (request, reply) => {
      const { cid } = request.params
      const bytes = await getBlock(ctx, cid)
      reply.headers({
        'content-type': 'application/vnd.ipld.raw',
        'x-content-type-options': 'nosniff',
        'cache-control': IMMUTABLE,
        etag: `"${cid}.raw"`,
        'x-ipfs-path': `/ipfs/${cid}`,
      })
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    },
  )
}
