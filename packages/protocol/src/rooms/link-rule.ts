/**
 * The rule of invite links on the membership log (protocol.md §6.4, docs/private-groups.md §6):
 * a `join` or `request` may carry the signed link it uses. In a private room, a link lets an
 * actor who is not invited join (or, when it needs approval, only ask to), while it names this
 * room, has not expired at the event's time, and its issuer is a member holding `invite` at the
 * event's place in the log. The link's signature is the caller's to check (it needs the issuer's
 * key), as the event's is; the use count and revocation are the server's (§8).
 */
import type { InviteLink } from './invitation.js'
import { hasPermission } from './permissions.js'
import type { RoomStateView, RuleFailure } from './rules.js'

const refuse = (code: RuleFailure['code'], message: string, permission?: RuleFailure['permission']): RuleFailure => ({
  ok: false,
  code,
  message,
  permission,
})

/**
 * Why the link of a join or request may not be used at `at`; undefined when it may.
 * @example
 * import { inviteLinkProblem } from '@dmtp/protocol'
 * const problem = inviteLinkProblem(view, { type: 'join', room, link }, event.at)
 */
export function inviteLinkProblem(
  view: RoomStateView,
  event: { type: 'join' | 'request'; room: string; link: InviteLink },
  at: string,
): RuleFailure | undefined {
  const { room } = view
  const { link } = event
  if (room.type !== 'private') return refuse('invalid_request', 'Only private rooms take invite links.')
  if (link.room !== event.room) return refuse('invalid_request', 'This invite link is for another room.')
  if (link.expiresAt !== null && at >= link.expiresAt) {
    return refuse('link_expired', `This invite link expired at ${link.expiresAt}.`)
  }
  if (event.type === 'join' && link.approval) {
    return refuse('forbidden', 'This invite link needs approval: ask to join with it.')
  }
  const issuer = view.member(link.issuer)
  if (issuer.status !== 'member') return refuse('forbidden', 'The issuer of this invite link is no longer a member.')
  if (!hasPermission(room, issuer.role, 'invite')) {
    return refuse('forbidden', 'The issuer of this invite link no longer holds the "invite" permission.', 'invite')
  }
  return undefined
}
