/** Reacts to a message with an emoji (or takes the reaction back), in any room. */
import { MAX_EMOJI_LENGTH } from '@dmtp/protocol'
import { type PostResult, post } from '../_post.js'
import type { DmtpClientBase } from '../client.js'

export type ReactParameters = {
  room: string
  /** The message reacted to. */
  id: string
  emoji: string
  /** Take this reaction back. */
  remove?: boolean | undefined
}

/**
 * @example
 * import { react } from '@dmtp/sdk'
 * await react(client, { room, id, emoji: '👍' })
 */
export async function react(client: DmtpClientBase, { room, id, emoji, remove = false }: ReactParameters): Promise<PostResult> {
  if (typeof emoji !== 'string' || emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH || /\s/.test(emoji)) {
    throw new RangeError(`"emoji" expected 1 to ${MAX_EMOJI_LENGTH} characters without spaces`)
  }
  return post(client, { room, type: remove ? 'unreact' : 'react', ref: id, content: { type: 'reaction', emoji } })
}
