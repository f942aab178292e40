/**
 * Invite links of private groups (docs/private-groups.md §6, §8): an issuer registers a link it
 * signed, members with `invite` list and revoke a room's links (an issuer its own, always). The
 * link itself is the issuer's signed word; what the server adds is the count of uses and the
 * revocation, enforced when a join or request using the link is appended (`use-link.ts`).
 */
import {
  canonicalText,
  hasPermission,
  type InviteLink,
  type InviteLinkStatus,
  MAX_LISTED_INVITE_LINKS,
  RecordExpiredError,
  SignatureInvalidError,
  verifyInviteLink,
} from '@dmtp/protocol'
import type { AppContext } from '../../context.js'
import { HttpError } from '../../errors.js'
import type { RoomLinkRow } from './reader.js'
import { RoomLinkTransactor } from './transactor.js'

export type RoomLinkServiceDeps = Pick<AppContext, 'database' | 'crypto' | 'keys' | 'clock' | 'rooms'> & {
  limits: AppContext['config']['limits']
}

const linkNotFound = () => new HttpError({ code: 'link_not_found', message: 'This room has no invite link with this id.' })

export class RoomLinkService {
  constructor(private readonly deps: RoomLinkServiceDeps) {}

  /**
   * Registers a link the signed-in member signed; registering the same link again returns it.
   * @throws {HttpError} invalid_request, sender_mismatch, clock_skew, room_not_found, not_member,
   *   forbidden, stale_key, invalid_signature, link_expired, conflict.
   */
  async register(address: string, roomId: string, link: InviteLink): Promise<InviteLinkStatus> {
    const { database, clock, limits, keys, crypto } = this.deps
    if (link.room !== roomId) throw new HttpError({ code: 'invalid_request', message: 'The link names another room.' })
    if (link.issuer !== address) {
      throw new HttpError({ code: 'sender_mismatch', message: 'The link names another issuer than the signed-in wallet.' })
    }
    const now = clock.now()
    if (Math.abs(Date.parse(link.at) - now.getTime()) > limits.maxClockSkewSeconds * 1000) {
      throw new HttpError({ code: 'clock_skew', message: 'The link time is too far from the server time; check your clock.' })
    }
    await this.requireInviter(address, roomId)
    const key = await keys.getCurrent(address)
    if (!key || key.cid !== link.issuerKey) {
      throw new HttpError({ code: 'stale_key', message: 'issuerKey is not your current key bundle; fetch it and retry.' })
    }
    try {
      await verifyInviteLink(crypto, { link, issuerPublicKey: key.ed25519, now })
    } catch (error) {
      if (error instanceof SignatureInvalidError) {
        throw new HttpError({ code: 'invalid_signature', message: "The link's signature does not verify with your key." })
      }
      if (error instanceof RecordExpiredError) throw new HttpError({ code: 'link_expired', message: error.shortMessage })
      throw error
    }
    const transactor = new RoomLinkTransactor(database.db)
    if (!(await transactor.isLogEntry(roomId, link.logHead))) {
      throw new HttpError({ code: 'invalid_request', message: "The link's logHead is not an entry of this room's log." })
    }
    const text = canonicalText(link)
    const inserted = await transactor.insertLink({
      id: link.id,
      room_id: roomId,
      issuer: address,
      link: text,
      expires_at: link.expiresAt,
      max_uses: link.maxUses,
      uses: 0,
      revoked_at: null,
      created_at: now.toISOString(),
    })
    const row = await transactor.findLink(link.id)
    if (!row || (!inserted && (row.room_id !== roomId || row.link !== text))) {
      throw new HttpError({ code: 'conflict', message: 'Another invite link has this id.' })
    }
    return toStatus(row)
  }

  /** The room's links, newest first, for a member with `invite`. */
  async list(address: string, roomId: string): Promise<InviteLinkStatus[]> {
    await this.requireInviter(address, roomId)
    const rows = await new RoomLinkTransactor(this.deps.database.db).listLinks(roomId, MAX_LISTED_INVITE_LINKS)
    return rows.map(toStatus)
  }

  /**
   * Revokes a link (again: no change): its issuer may, even after leaving, and any member with `invite`.
   * @throws {HttpError} room_not_found, not_member, forbidden, link_not_found.
   */
  async revoke(address: string, roomId: string, id: string): Promise<InviteLinkStatus> {
    const transactor = new RoomLinkTransactor(this.deps.database.db)
    const row = await transactor.findLink(id)
    const own = row?.room_id === roomId && row.issuer === address
    if (!own) await this.requireInviter(address, roomId)
    if (!row || row.room_id !== roomId) throw linkNotFound()
    await transactor.revoke(id, this.deps.clock.now().toISOString())
    return toStatus((await transactor.findLink(id)) ?? row)
  }

  /** A member of the private room holding `invite` (others learn nothing of a room they are not in). */
  private async requireInviter(address: string, roomId: string): Promise<void> {
    const room = await this.deps.rooms.requireReader(address, roomId)
    if (room.room.type !== 'private') {
      throw new HttpError({ code: 'invalid_request', message: 'Only private rooms have invite links.' })
    }
    const member = room.member(address)
    if (member.status !== 'member') throw new HttpError({ code: 'not_member', message: 'You are not a member of this room.' })
    if (!hasPermission(room.room, member.role, 'invite')) {
      throw new HttpError({
        code: 'forbidden',
        message: 'This needs the "invite" permission, which your role does not have.',
      })
    }
  }
}

function toStatus(row: RoomLinkRow): InviteLinkStatus {
  return { ...(JSON.parse(row.link) as InviteLink), uses: row.uses, revoked: row.revoked_at !== null }
}
