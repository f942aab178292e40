/**
 * Joins a private room by invite link (docs/private-groups.md §6): reads the `dmtp-invite:` text,
 * checks the link's signature under its issuer's verified key bundle and its expiry, then joins
 * with it (or, for a link that needs approval, asks to join). Once a member of an end-to-end
 * encrypted room, it fetches the keys it was given. The server counts the use and refuses a
 * link it does not know, or one revoked, expired or used up.
 */
import {
  type ApiErrorType,
  type ErrorType,
  type InviteLink,
  type Membership,
  parseInviteLink,
  type RecordExpiredErrorType,
  type RoomEncryption,
  type SignatureInvalidErrorType,
  verifyInviteLink,
} from '@dmtp/protocol'
import { ZodError } from 'zod'
import { syncRoomKeys } from '../_room-keys.js'
import { postRoomEvent, roomInfo } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'
import type { KeyBundleRejectedErrorType } from '../errors.js'
import { bundleByCid } from './get-key-bundle.js'

export type JoinByLinkParameters = { link: string }
export type JoinByLinkReturnType = {
  room: string
  status: 'member' | 'requested'
  membership: Membership
  /** The room's encryption once joined (null while only requested). */
  encryption: RoomEncryption | null
}
export type JoinByLinkErrorType =
  | TypeError
  | SignatureInvalidErrorType
  | RecordExpiredErrorType
  | KeyBundleRejectedErrorType
  | ApiErrorType
  | ErrorType

/**
 * @throws {TypeError} when the text is not a DMTP invite link.
 * @throws {SignatureInvalidError} when its issuer did not sign it; nothing is sent.
 * @throws {RecordExpiredError} when it has expired; nothing is sent.
 * @throws {ApiError} `link_not_found`, `link_revoked`, `link_expired`, `link_used_up`, `banned`, `forbidden`.
 * @example
 * import { joinByLink } from '@dmtp/sdk'
 * const { room, status } = await joinByLink(client, { link: 'dmtp-invite:eyJhcHByb3ZhbCI6…' })
 */
export async function joinByLink(client: DmtpClientBase, { link: text }: JoinByLinkParameters): Promise<JoinByLinkReturnType> {
  const link = readLink(text)
  const [crypto, issuer] = await Promise.all([client.getCrypto(), bundleByCid(client, link.issuerKey, link.issuer)])
  await verifyInviteLink(crypto, { link, issuerPublicKey: issuer.ed25519 })
  const { membership } = await postRoomEvent(client, link.room, { type: link.approval ? 'request' : 'join', link })
  if (membership.status !== 'member') return { room: link.room, status: 'requested', membership, encryption: null }
  const { encryption } = await roomInfo(client, link.room, { fresh: true })
  return {
    room: link.room,
    status: 'member',
    membership,
    encryption: encryption?.e2ee ? await syncRoomKeys(client, link.room) : encryption,
  }
}

/** The link of a text, any malformed one a TypeError (the schema's too). */
function readLink(text: string): InviteLink {
  try {
    return parseInviteLink(text.trim())
  } catch (error) {
    if (!(error instanceof ZodError)) throw error
    const issue = error.issues[0]
    throw new TypeError(`"link" expected a valid invite link, got one whose ${issue?.path.join('.') || 'token'} is wrong`, {
      cause: error,
    })
  }
}
