/**
 * What the server checks of an invite link a join or request carries (docs/private-groups.md §8).
 * Without order: the issuer's key bundle named by `issuerKey` signed it. In the writer's
 * transaction, after the shared rules allowed the event: the link is registered here as it is,
 * not revoked, not expired, under its limit, and then one use is counted with the append.
 */
import { canonicalText, fromBase64Url, type InviteLink, verifyInviteLinkSignature } from '@dmtp/protocol'
import type { AppContext } from '../../context.js'
import type { Db } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import { RoomLinkTransactor } from './transactor.js'

/**
 * @throws {HttpError} invalid_signature when the link is not signed by a key bundle of its issuer.
 */
export async function checkLinkSignature(deps: Pick<AppContext, 'keys' | 'crypto'>, link: InviteLink): Promise<void> {
  const bundle = await deps.keys.getByCid(link.issuerKey)
  const signed =
    bundle?.address === link.issuer &&
    (await verifyInviteLinkSignature(deps.crypto, link, fromBase64Url(bundle.bundle.DMTPpubKey.ed25519)))
  if (!signed) {
    throw new HttpError({
      code: 'invalid_signature',
      message: "The invite link's signature does not verify with its issuer's key.",
    })
  }
}

/**
 * Counts a use of `link`, inside the transaction that appends the event using it.
 * @throws {HttpError} link_not_found, link_revoked, link_expired, link_used_up.
 */
export async function useInviteLink(db: Db, link: InviteLink, now: string): Promise<void> {
  const transactor = new RoomLinkTransactor(db)
  const row = await transactor.findLink(link.id)
  if (!row || row.room_id !== link.room || row.link !== canonicalText(link)) {
    throw new HttpError({ code: 'link_not_found', message: 'This invite link is not registered on this server.' })
  }
  if (await transactor.countUse(link.id, now)) return
  // Not counted: say why (read again, in case a revocation came in between).
  const current = (await transactor.findLink(link.id)) ?? row
  if (current.revoked_at !== null) {
    throw new HttpError({ code: 'link_revoked', message: `This invite link was revoked at ${current.revoked_at}.` })
  }
  if (current.expires_at !== null && current.expires_at <= now) {
    throw new HttpError({ code: 'link_expired', message: `This invite link expired at ${current.expires_at}.` })
  }
  throw new HttpError({
    code: 'link_used_up',
    message: `This invite link is used up (${current.uses} of ${current.max_uses} uses).`,
  })
}
