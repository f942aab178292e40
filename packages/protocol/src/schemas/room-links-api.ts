/**
 * zod schemas of the invite-link API of private groups (docs/api.md, "Private rooms"): an issuer
 * registers a link it signed, members with `invite` list a room's links, and revoke them.
 * Joining with a link is a `join` (or `request`) event that carries it.
 */
import { z } from 'zod'
import { idSchema } from './records.js'
import { inviteLinkSchema, inviteLinkStatusSchema } from './room-key-records.js'

/** Most links one listing returns (the newest). */
export const MAX_LISTED_INVITE_LINKS = 500

export const inviteLinkParamsSchema = z.strictObject({ room: idSchema, id: idSchema })

export const createInviteLinkRequestSchema = z.strictObject({ link: inviteLinkSchema })

export const inviteLinkResponseSchema = z.strictObject({ link: inviteLinkStatusSchema })

export const inviteLinksResponseSchema = z.strictObject({
  /** Newest first, at most {@link MAX_LISTED_INVITE_LINKS}. */
  links: z.array(inviteLinkStatusSchema).max(MAX_LISTED_INVITE_LINKS),
})

export type InviteLinkStatus = z.infer<typeof inviteLinkStatusSchema>
