/** Edits one of your messages: a signed follow-up naming the original; readers show the newest text. */
import { MAX_TEXT_LENGTH } from '@dmtp/protocol'
import { type PostResult, post } from '../_post.js'
import type { DmtpClientBase } from '../client.js'

export type EditParameters = { room: string; id: string; text: string }

/**
 * @example
 * import { edit } from '@dmtp/sdk'
 * await edit(client, { room, id, text: 'gm, fixed typo' })
 */
export async function edit(client: DmtpClientBase, { room, id, text }: EditParameters): Promise<PostResult> {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT_LENGTH) {
    throw new RangeError(`"text" expected 1 to ${MAX_TEXT_LENGTH} characters`)
  }
  return post(client, { room, type: 'edit', ref: id, content: { type: 'text', text } })
}
