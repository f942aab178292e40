/** Invites wallets to a room (needs `invite`); only they are told, and they join when they accept. */
import { MAX_EVENT_MEMBERS } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

/** How long an invitation holds unless told otherwise: a week. */
export const DEFAULT_INVITATION_MS = 7 * 24 * 60 * 60 * 1000

/** `until`: when the invitation lapses (null: it does not). */
export type InviteReturnType = { until: string | null }

export type InviteParameters = {
  room: string
  members: string[]
  /** The invitees must join within this many milliseconds (default a week); null: the invitation does not lapse. */
  expiresInMs?: number | null | undefined
}

/**
 * @throws {ApiError} `forbidden` (no `invite`), `banned`, `conflict` (already a member).
 * @example
 * import { invite } from '@dmtp/sdk'
 * const { until } = await invite(client, { room, members: ['0xB0b…'] }) // they have a week to join
 * await invite(client, { room, members: ['0xCa7…'], expiresInMs: 60 * 60 * 1000 })
 */
export async function invite(
  client: DmtpClientBase,
  { room, members, expiresInMs = DEFAULT_INVITATION_MS }: InviteParameters,
): Promise<InviteReturnType> {
  if (members.length === 0 || members.length > MAX_EVENT_MEMBERS)
    throw new RangeError(`"members" expected 1 to ${MAX_EVENT_MEMBERS}`)
  if (expiresInMs !== null && !(Number.isSafeInteger(expiresInMs) && expiresInMs > 0))
    throw new RangeError('"expiresInMs" expected a positive whole number of milliseconds, or null')
  const until = expiresInMs === null ? null : new Date(Date.now() + expiresInMs).toISOString()
  await postRoomEvent(client, room, { type: 'invite', members: members.map((address) => getAddress(address)), until })
  return { until }
}
