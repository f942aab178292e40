/** Revokes an invite link at once: its issuer may, and any member with `invite`. Revoking again changes nothing. */
import { type ApiErrorType, type InviteLinkStatus, inviteLinkResponseSchema } from '@dmtp/protocol'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type RevokeInviteLinkParameters = { room: string; id: string }
export type RevokeInviteLinkReturnType = InviteLinkStatus
export type RevokeInviteLinkErrorType = ApiErrorType

/**
 * @throws {ApiError} `link_not_found` for an id the room has no link under, `forbidden` without `invite`.
 * @example
 * import { revokeInviteLink } from '@dmtp/sdk'
 * await revokeInviteLink(client, { room, id: link.id })
 */
export async function revokeInviteLink(
  client: DmtpClientBase,
  { room, id }: RevokeInviteLinkParameters,
): Promise<RevokeInviteLinkReturnType> {
  const { link } = await authedRequest(client, {
    method: 'DELETE',
    path: `/v1/rooms/${room}/links/${encodeURIComponent(id)}`,
    schema: inviteLinkResponseSchema,
  })
  return link
}
