/**
 * Room keys of private groups (docs/private-groups.md §4, §7): a member uploads a rotation (its
 * signed intent and the distribution pages wrapping the new key to every member), and each member
 * fetches its own wrapped keys. The server never sees a key. It checks everything it can: the
 * intent is signed by a member with its current key; the pages are that member's, for that epoch
 * and key id, at the current log head; every wrap goes to a member, to that member's current key
 * bundle, and every member with keys gets one; the hash trees and signatures hold. The epoch moves
 * by compare-and-set in the writer, in commit order with messages and log events.
 */
import {
  canonicalText,
  type KeyDistribution,
  KeyDistributionError,
  keyDeliveries,
  type RoomEncryption,
  type RoomKeysResponse,
  type RotateRoomKeyRequest,
  verifyKeyDistribution,
  verifyRotationIntent,
} from '@dmtp/protocol'
import type { AppContext } from '../../context.js'
import { HttpError } from '../../errors.js'
import { roomEncryption } from './room-epoch.js'
import { RoomKeyReader } from './room-key-reader.js'
import { rotationConflict } from './write-rotation.js'

export type RoomKeyServiceDeps = Pick<AppContext, 'database' | 'crypto' | 'keys' | 'roomCache' | 'writer' | 'clock' | 'rooms'> & {
  limits: AppContext['config']['limits']
}

const invalidDistribution = (problem: string, message: string) =>
  new HttpError({ code: 'invalid_key_distribution', message: `Invalid key distribution: ${message}`, details: { problem } })

export class RoomKeyService {
  constructor(private readonly deps: RoomKeyServiceDeps) {}

  /**
   * Checks and applies a rotation by the signed-in member.
   * @throws {HttpError} invalid_request, sender_mismatch, clock_skew, room_not_found, not_member,
   *   e2ee_off, stale_key, invalid_signature, log_head_moved, epoch_conflict, invalid_key_distribution.
   */
  async rotate(address: string, roomId: string, { intent, pages }: RotateRoomKeyRequest): Promise<RoomEncryption> {
    const { database, clock, limits, keys, crypto } = this.deps
    if (intent.room !== roomId) throw new HttpError({ code: 'invalid_request', message: 'The intent names another room.' })
    if (intent.actor !== address) {
      throw new HttpError({ code: 'sender_mismatch', message: 'The intent names another actor than the signed-in wallet.' })
    }
    if (Math.abs(Date.parse(intent.at) - clock.now().getTime()) > limits.maxClockSkewSeconds * 1000) {
      throw new HttpError({ code: 'clock_skew', message: 'The intent time is too far from the server time; check your clock.' })
    }
    const room = await this.requirePrivateMember(address, roomId)
    if (!room.room.e2ee) throw new HttpError({ code: 'e2ee_off', message: 'End-to-end encryption is off in this room.' })
    const key = await keys.getCurrent(address)
    if (!key || key.cid !== intent.actorKey) {
      throw new HttpError({ code: 'stale_key', message: 'actorKey is not your current key bundle; fetch it and retry.' })
    }
    try {
      await verifyRotationIntent(crypto, { intent, actorPublicKey: key.ed25519 })
    } catch {
      throw new HttpError({ code: 'invalid_signature', message: "The intent signature does not verify with the actor's key." })
    }
    const reader = new RoomKeyReader(database.db)
    // The members read after the head: if the log moves between the two reads, the head no longer
    // matches and the writer refuses the rotation (`log_head_moved`).
    const state = await reader.findEpochState(roomId)
    if (!state) throw new HttpError({ code: 'room_not_found', message: 'No such room.' })
    const conflict = rotationConflict(state, intent)
    if (conflict) throw conflict
    const members = await reader.listMemberKeys(roomId)
    const deliveries = await this.checkPages(pages, intent, key.ed25519, members)
    return this.deps.writer.rotate({ intent, intentJson: canonicalText(intent), deliveries })
  }

  /** Every check of the pages; returns one delivery per recipient. */
  private async checkPages(
    pages: KeyDistribution[],
    intent: RotateRoomKeyRequest['intent'],
    distributorPublicKey: Uint8Array,
    members: Map<string, string | null>,
  ): Promise<{ recipient: string; delivery: string }[]> {
    const { crypto } = this.deps
    const memberSet = new Set(members.keys())
    const recipientKeys = new Map([...members].flatMap(([address, cid]) => (cid ? [[address, cid] as const] : [])))
    const logHead = { cid: intent.logHead, index: intent.logIndex }
    const out: { recipient: string; delivery: string }[] = []
    let previous = ''
    for (const [i, page] of pages.entries()) {
      const mismatch =
        page.room !== intent.room ||
        page.epoch !== intent.toEpoch ||
        page.keyId !== intent.keyId ||
        page.distributor !== intent.actor ||
        page.distributorKey !== intent.actorKey
      if (mismatch) throw invalidDistribution('intent', `page ${i} is not for the epoch, key or distributor of the intent`)
      if (page.page !== i || page.pages !== pages.length) {
        throw invalidDistribution('page', `page ${page.page} of ${page.pages} sent as ${i} of ${pages.length}`)
      }
      try {
        await verifyKeyDistribution(crypto, {
          distribution: page,
          distributorPublicKey,
          members: memberSet,
          logHead,
          recipientKeys,
        })
      } catch (error) {
        if (error instanceof KeyDistributionError) throw invalidDistribution(error.problem, error.shortMessage)
        throw error
      }
      for (const wrap of page.recipients) {
        if (!recipientKeys.has(wrap.recipient)) {
          throw invalidDistribution('recipient_key', `${wrap.recipient} has no key bundle to wrap to`)
        }
        const order = wrap.recipient.toLowerCase()
        if (order <= previous) throw invalidDistribution('recipient_order', `${wrap.recipient} is out of order across pages`)
        previous = order
      }
      for (const delivery of keyDeliveries(crypto.sha256, page)) {
        out.push({ recipient: delivery.recipient.recipient, delivery: JSON.stringify(delivery) })
      }
    }
    const wrapped = new Set(out.map((entry) => entry.recipient))
    const missing = [...recipientKeys.keys()].filter((address) => !wrapped.has(address))
    if (missing.length > 0) {
      throw invalidDistribution('incomplete', `no key for ${missing.length} member(s) with keys, e.g. ${missing[0]}`)
    }
    return out
  }

  /** The signed-in member's wrapped keys after epoch `after`, with the room's encryption state. */
  async deliveries(
    address: string,
    roomId: string,
    { after, limit }: { after: number; limit: number },
  ): Promise<RoomKeysResponse> {
    await this.requirePrivateMember(address, roomId)
    const reader = new RoomKeyReader(this.deps.database.db)
    const [state, rows] = await Promise.all([reader.findEpochState(roomId), reader.listDeliveries(roomId, address, after, limit)])
    const encryption = state ? roomEncryption(state) : null
    if (!encryption) throw new HttpError({ code: 'room_not_found', message: 'No such room.' })
    const last = rows.at(-1)
    return {
      encryption,
      deliveries: rows.map((row) => JSON.parse(row.delivery)),
      next: rows.length === limit && last ? last.epoch : null,
    }
  }

  private async requirePrivateMember(address: string, roomId: string) {
    const room = await this.deps.rooms.requireReader(address, roomId)
    if (room.room.type !== 'private') {
      throw new HttpError({ code: 'invalid_request', message: 'Only private rooms have room keys.' })
    }
    if (room.member(address).status !== 'member') {
      throw new HttpError({ code: 'not_member', message: 'You are not a member of this room.' })
    }
    return room
  }
}
