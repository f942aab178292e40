/**
 * Makes an invite link to a private room (docs/private-groups.md §6): signed with this member's
 * DMTP key at the room's membership-log head as this client replayed it, and registered with the
 * server, which counts its uses and enforces its limits. Needs the `invite` permission. The text
 * (`dmtp-invite:…`) is a bearer token: whoever holds it may join (or ask to, with `approval`).
 */
import {
  type ApiErrorType,
  type ErrorType,
  type InviteLink,
  inviteLinkResponseSchema,
  inviteLinkText,
  MAX_INVITE_LINK_USES,
  signInviteLink,
  toBase64Url,
} from '@dmtp/protocol'
import { currentKeys } from '../_keyring.js'
import { roomLog } from '../_room-log.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

/** How long a link lasts unless told otherwise: 7 days. */
export const DEFAULT_INVITE_LINK_SECONDS = 7 * 24 * 60 * 60

export type CreateInviteLinkParameters = {
  room: string
  /** Seconds from now until the link expires (default 7 days); null: until revoked. */
  expiresIn?: number | null | undefined
  /** When the link expires (instead of `expiresIn`). */
  expiresAt?: Date | string | undefined
  /** How many wallets may use it (default: no limit). */
  maxUses?: number | null | undefined
  /** True: using the link files a join request, for a member with `accept_join_request` to approve. */
  approval?: boolean | undefined
}
export type CreateInviteLinkReturnType = { link: InviteLink; text: string }
export type CreateInviteLinkErrorType = ApiErrorType | TypeError | RangeError | ErrorType

/**
 * @throws {ApiError} `forbidden` without the `invite` permission, `room_not_found` outside the room.
 * @example
 * import { createInviteLink } from '@dmtp/sdk'
 * const { text } = await createInviteLink(client, { room, expiresIn: 24 * 60 * 60, maxUses: 10 })
 * // text: 'dmtp-invite:eyJhcHByb3ZhbCI6…'
 */
export async function createInviteLink(
  client: DmtpClientBase,
  { room, expiresIn, expiresAt, maxUses = null, approval = false }: CreateInviteLinkParameters,
): Promise<CreateInviteLinkReturnType> {
  const now = new Date()
  const expiry = expiryOf(now, expiresIn, expiresAt)
  if (maxUses !== null && !(Number.isInteger(maxUses) && maxUses >= 1 && maxUses <= MAX_INVITE_LINK_USES)) {
    throw new RangeError(`"maxUses" expected an integer from 1 to ${MAX_INVITE_LINK_USES}, got ${maxUses}`)
  }
  const log = roomLog(client, room)
  await log.sync()
  const head = log.head
  if (!head) throw new TypeError(`"room" expected a room with a membership log, got ${room}`)
  const [wallet, crypto, own] = await Promise.all([client.getWallet(), client.getCrypto(), currentKeys(client)])
  const link = await signInviteLink(crypto, {
    link: {
      v: 1,
      id: toBase64Url(crypto.randomBytes(16)),
      room,
      issuer: wallet.address,
      issuerKey: own.cid,
      logHead: head.cid,
      at: now.toISOString(),
      expiresAt: expiry,
      maxUses,
      approval,
    },
    signingKey: own.keys.ed25519.secretKey,
  })
  await authedRequest(client, {
    method: 'POST',
    path: `/v1/rooms/${room}/links`,
    body: { link },
    schema: inviteLinkResponseSchema,
  })
  return { link, text: inviteLinkText(link) }
}

function expiryOf(now: Date, expiresIn: number | null | undefined, expiresAt: Date | string | undefined): string | null {
  if (expiresAt !== undefined) {
    if (expiresIn !== undefined) throw new TypeError('"expiresIn" and "expiresAt" expected one of the two, got both')
    const at = new Date(expiresAt)
    if (Number.isNaN(at.getTime()) || at <= now)
      throw new RangeError(`"expiresAt" expected a time in the future, got ${expiresAt}`)
    return at.toISOString()
  }
  if (expiresIn === null) return null
  const seconds = expiresIn ?? DEFAULT_INVITE_LINK_SECONDS
  if (!(Number.isFinite(seconds) && seconds > 0)) throw new RangeError(`"expiresIn" expected seconds > 0, got ${seconds}`)
  return new Date(now.getTime() + seconds * 1000).toISOString()
}
