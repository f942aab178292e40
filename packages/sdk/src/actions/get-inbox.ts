/**
 * Reads the wallet's inbox: every message it sent or received across all conversations, after a
 * per-wallet cursor, in the order the server stored them (what `stream()` replays).
 */
import { inboxResponseSchema } from '@dmtp/protocol'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type GetInboxParameters = { after?: number | undefined; limit?: number | undefined }

export type GetInboxReturnType = {
  entries: { cursor: number; message: DecryptedMessage }[]
  /** The newest cursor in the inbox; when the last entry's cursor equals it, you are caught up. */
  latest: number
}

/**
 * @example
 * import { getInbox } from '@dmtp/sdk'
 * const { entries, latest } = await getInbox(client, { after: 0 })
 */
export async function getInbox(
  client: DmtpClientBase,
  { after = 0, limit = 200 }: GetInboxParameters = {},
): Promise<GetInboxReturnType> {
  const response = await authedRequest(client, {
    method: 'GET',
    path: '/v1/inbox',
    query: { after, limit },
    schema: inboxResponseSchema,
  })
  const entries = await Promise.all(
    response.entries.map(async (entry) => ({ cursor: entry.cursor, message: await decryptRecord(client, entry.message) })),
  )
  return { entries, latest: response.latest }
}
