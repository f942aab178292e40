/**
 * Recalls a message ("delete for everyone"): yours, or anyone's with `recall_others`. In a room
 * without E2EE the server deletes the words (row and block) and keeps the signed envelope; in a
 * 1:1 room the ciphertext stays (the server cannot read it) and every client hides the message.
 */
import { type PostResult, post } from '../_post.js'
import type { DmtpClientBase } from '../client.js'

export type RecallParameters = { room: string; id: string }

/**
 * @example
 * import { recall } from '@dmtp/sdk'
 * await recall(client, { room, id })
 */
export function recall(client: DmtpClientBase, { room, id }: RecallParameters): Promise<PostResult> {
  return post(client, { room, type: 'recall', ref: id, content: { type: 'none' } })
}
