/**
 * Invitations pushed by the stream (`{"type":"invitation"}`): the signed `invite` entry of a room's
 * log, sent to the invitee alone. It is shown only when it is an invite naming this wallet whose
 * signature verifies under the inviter's key bundle; the inviter's permission is checked, as
 * every entry's, when the invitee opens the room and replays its log.
 * @internal
 */
import { type LogRecord, verifyRoomEventSignature } from '@dmtp/protocol'
import { bundleByCid } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'

export type Invitation = {
  room: string
  inviter: string
  /** When it was signed. */
  at: string
  /** The invitee must join before then; null: no end. */
  until: string | null
  record: LogRecord
}

/** The invitation the frame carries, or undefined when it is not one for `me` that verifies. */
export async function checkInvitation(client: DmtpClientBase, me: string, record: LogRecord): Promise<Invitation | undefined> {
  const { event } = record.entry
  if (event.type !== 'invite' || !event.members.includes(me)) return undefined
  try {
    const bundle = await bundleByCid(client, event.actorKey, event.actor)
    if (!(await verifyRoomEventSignature(await client.getCrypto(), event, bundle.ed25519))) return undefined
  } catch {
    return undefined
  }
  return { room: event.room, inviter: event.actor, at: event.at, until: event.until ?? null, record }
}
