/**
 * Moderation: kick, ban, unban, mute, unmute one member, several, or all (everyone your role
 * outranks who lacks the permission), with an optional time after which a ban or mute lifts by
 * itself. Each is a signed log event; it takes effect at once, on open connections too.
 */
import { FOREVER, MAX_EVENT_MEMBERS, type RoomEventBody } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type ModerationAction = 'kick' | 'ban' | 'unban' | 'mute' | 'unmute'

export type ModerateParameters = {
  room: string
  action: ModerationAction
  /** Who; or `all: true`. */
  members?: string[] | undefined
  all?: boolean | undefined
  /** Ban or mute for this long (ms), or `until` a time; neither: for good. */
  forMs?: number | undefined
  until?: Date | string | undefined
  /** Ban only: also recall the member's messages (needs `recall_others`). */
  removeMessages?: boolean | undefined
}

/**
 * @example
 * import { moderate } from '@dmtp/sdk'
 * await moderate(client, { room, action: 'mute', members: ['0xB0b…'], forMs: 30 * 60_000 })
 */
export async function moderate(
  client: DmtpClientBase,
  { room, action, members, all = false, forMs, until, removeMessages = false }: ModerateParameters,
): Promise<void> {
  if (all === (members !== undefined && members.length > 0)) throw new TypeError('"members" or "all" expected (one of them)')
  if (members && members.length > MAX_EVENT_MEMBERS) throw new RangeError(`"members" expected at most ${MAX_EVENT_MEMBERS}`)
  if (all && action === 'unban') throw new TypeError('"all" cannot lift bans; name the addresses')
  const subjects = all ? { all: true as const } : { members: (members ?? []).map((address) => getAddress(address)) }
  const lifted =
    forMs !== undefined ? new Date(Date.now() + forMs).toISOString() : until !== undefined ? new Date(until).toISOString() : null
  if (lifted !== null && (lifted === 'Invalid Date' || lifted > FOREVER)) throw new RangeError('"until" expected a valid time')
  let body: RoomEventBody
  switch (action) {
    case 'kick':
    case 'unmute':
      body = { type: action, ...subjects }
      break
    case 'unban':
      body = { type: 'unban', members: subjects.members ?? [] }
      break
    case 'mute':
      body = { type: 'mute', ...subjects, until: lifted }
      break
    case 'ban':
      body = { type: 'ban', ...subjects, until: lifted, removeMessages }
      break
  }
  await postRoomEvent(client, room, body)
}
