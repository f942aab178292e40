/** A private room's invite links with their uses and whether each was revoked (needs `invite`). */
import { type ApiErrorType, type InviteLinkStatus, inviteLinksResponseSchema, inviteLinkText } from '@dmtp/protocol'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type GetInviteLinksParameters = { room: string }
/** Newest first; `text` is the link to share again. */
export type GetInviteLinksReturnType = (InviteLinkStatus & { text: string })[]
export type GetInviteLinksErrorType = ApiErrorType

/**
 * @example
 * import { getInviteLinks } from '@dmtp/sdk'
 * const links = await getInviteLinks(client, { room })
 * for (const link of links) console.log(link.id, link.uses, link.maxUses, link.revoked)
 */
export async function getInviteLinks(
  client: DmtpClientBase,
  { room }: GetInviteLinksParameters,
): Promise<GetInviteLinksReturnType> {
  const { links } = await authedRequest(client, {
    method: 'GET',
    path: `/v1/rooms/${room}/links`,
    schema: inviteLinksResponseSchema,
  })
  return links.map((status) => {
    const { uses: _uses, revoked: _revoked, ...link } = status
    return { ...status, text: inviteLinkText(link) }
  })
}
