/** Pins a message to its room (or unpins it); needs the `pin` permission. */
import { type PostResult, post } from '../_post.js'
import type { DmtpClientBase } from '../client.js'

export type PinParameters = { room: string; id: string; unpin?: boolean | undefined }

/**
 * @example
 * import { pin } from '@dmtp/sdk'
 * await pin(client, { room, id })
 */
export function pin(client: DmtpClientBase, { room, id, unpin = false }: PinParameters): Promise<PostResult> {
  return post(client, { room, type: unpin ? 'unpin' : 'pin', ref: id, content: { type: 'none' } })
}
