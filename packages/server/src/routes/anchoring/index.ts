/**
 * Where a message or key bundle stands in anchoring. A server without a chain anchors nothing:
 * it answers `chain_unavailable` rather than `pending` for ever.
 */
import { type AnchorInfo, anchorResponseSchema, keyByCidParamsSchema } from '@dmtp/protocol'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AppContext } from '../../context.js'
import { HttpError } from '../../errors.js'
import { findAnchorOf } from '../../services/anchoring/reader.js'

export const anchoringRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/v1/anchors/:cid',
    {
      schema: {
        tags: ['anchoring'],
        summary: 'Whether a message or key bundle is in a manifest, and whether that is on chain (public)',
        params: keyByCidParamsSchema,
        response: { 200: anchorResponseSchema },
      },
    },
    async (request): Promise<AnchorInfo> => {
      if (!ctx.chain) {
        throw new HttpError({
          code: 'chain_unavailable',
          message: 'This server does not anchor on a chain: nothing it stores is anchored.',
        })
      }
      const row = await findAnchorOf(ctx.database.db, request.params.cid)
      if (!row) throw new HttpError({ code: 'not_found', message: 'No message or key bundle with this CID.' })
      const manifest =
        row.seq === null || row.manifest_cid === null
          ? null
          : {
              seq: row.seq,
              cid: row.manifest_cid,
              chainIndex: row.chain_index,
              txHash: row.tx_hash,
              blockNumber: row.block_number,
              anchoredAt: row.anchored_at,
            }
      return {
        cid: row.cid,
        kind: row.kind === 'key' ? 'key' : 'message',
        status: row.status === 'anchored' ? 'anchored' : manifest ? 'stored' : 'pending',
        manifest,
      }
    },
  )
}
