/**
 * Applies one membership-log event on the server: checks it with the shared rules
 * (`planRoomEvent`, the ones every client replays), then writes its changes to the database and
 * the room cache inside the writer's transaction, including what follows by rule (ownership
 * passing on when the last Owner leaves, the room ending with its last member).
 */
import {
  countsChange,
  type LogEntry,
  type MemberState,
  planCreate,
  planRoomEvent,
  type RoomEffect,
  type RotationCause,
} from '@dmtp/protocol'
import type { Transaction } from '../../db/database.js'
import { useInviteLink } from '../room-links/use-link.js'
import type { CachedMember, CachedRoom, RoomCache } from './room-cache.js'
import { ruleError } from './rule-error.js'
import { RoomTransactor } from './transactor.js'

export type EventApplication = {
  /** Addresses whose status changed, from what and to what (their streams add or drop the room). */
  changed: { address: string; status: MemberState['status']; was: MemberState['status'] }[]
  /** Content blocks of public messages recalled by the event (to delete). */
  contentCids: string[]
}

export async function applyRoomEvent({
  tx,
  cache,
  room,
  entry,
  pos,
  now,
}: {
  tx: Transaction
  cache: RoomCache
  room: CachedRoom
  entry: LogEntry
  pos: number
  now: string
}): Promise<EventApplication> {
  const { event } = entry
  const transactor = new RoomTransactor(tx.db)
  await cache.members(tx.db, room, [event.actor, ...('members' in event && event.members ? event.members : [])])
  let plan = event.type === 'create' ? planCreate(event) : planRoomEvent(room, event, now)
  // Checked at the server's time and at the signed time (what a client's replay checks).
  if (plan.ok && event.type !== 'create') plan = planRoomEvent(room, event, event.at)
  if (!plan.ok) throw ruleError(plan)
  // A join or request by invite link counts its use now, before any change: a refusal changes nothing.
  if ((event.type === 'join' || event.type === 'request') && event.link) await useInviteLink(tx.db, event.link, now)
  const application: EventApplication = { changed: [], contentCids: [] }
  const setMember = async (address: string, next: CachedMember) => {
    const before = room.member(address)
    await transactor.upsertMember({
      room_id: room.row.id,
      address,
      status: next.status,
      role: next.role,
      joined_seq: next.joinedSeq,
      joined_pos: next.joinedPos,
      left_pos: next.leftPos,
      muted_until: next.mutedUntil,
      banned: next.banned ? 1 : 0,
      banned_until: next.bannedUntil,
      invited_until: next.invitedUntil,
      read_seq: next.readSeq,
    })
    cache.put(room, address, next)
    const change = countsChange(before, next)
    room.room.members += change.members
    room.room.owners += change.owners
    if (before.status !== next.status) application.changed.push({ address, status: next.status, was: before.status })
  }
  for (const effect of plan.effects) await applyEffect(effect)

  async function applyEffect(effect: RoomEffect): Promise<void> {
    switch (effect.kind) {
      case 'member': {
        const before = room.members.get(effect.address) ?? {
          ...room.member(effect.address),
          joinedPos: 0,
          leftPos: null,
          readSeq: 0,
        }
        const next: CachedMember = { ...before, ...effect.set }
        if (effect.joined) Object.assign(next, { joinedSeq: entry.seq, joinedPos: pos, leftPos: null })
        if (before.status === 'member' && next.status !== 'member') next.leftPos = pos
        await setMember(effect.address, next)
        return
      }
      case 'members': {
        const { status, role, mutedUntil } = effect.set
        const changed = await transactor.updateMembersWithRoles(room.row.id, {
          roles: effect.roles,
          except: effect.except,
          set: {
            ...(status !== undefined ? { status, joined_seq: 0, left_pos: pos } : {}),
            ...(role !== undefined ? { role } : {}),
            ...(mutedUntil !== undefined ? { muted_until: mutedUntil } : {}),
            ...(effect.set.banned !== undefined
              ? { banned: effect.set.banned ? 1 : 0, banned_until: effect.set.bannedUntil ?? null }
              : {}),
          },
        })
        if (status !== undefined && status !== 'member') {
          for (const address of changed) application.changed.push({ address, status, was: 'member' })
        }
        cache.forgetMembers(room)
        room.room.members = await transactor.countMembers(room.row.id)
        room.room.owners = await transactor.countOwners(room.row.id)
        return
      }
      case 'room': {
        const { name, description, avatar, announce, deleted, e2ee, plain } = effect.set
        if (e2ee !== undefined) {
          room.room.e2ee = e2ee
          room.row.e2ee = e2ee ? 1 : 0
        }
        if (plain !== undefined) {
          room.room.plain = plain
          room.row.plain = plain ? 1 : 0
        }
        if (name !== undefined) room.room.name = name
        if (description !== undefined) room.room.description = description
        if (avatar !== undefined) room.room.avatar = avatar
        if (announce !== undefined) room.room.announce = announce
        if (deleted) {
          room.room.deleted = true
          room.row.deleted_at = now
        }
        const columns = {
          ...(name !== undefined ? { name } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(avatar !== undefined ? { avatar } : {}),
          ...(announce !== undefined ? { announce: announce ? 1 : 0 } : {}),
        }
        // A delete changes no setting here: the writer stores `deleted_at` with the room's counters.
        if (Object.keys(columns).length === 0) return
        await transactor.updateRoom(room.row.id, columns)
        Object.assign(room.row, columns)
        return
      }
      case 'role': {
        await transactor.defineRole(room.row.id, effect.role, effect.permissions)
        const customRoles = { ...room.room.customRoles }
        if (effect.permissions) customRoles[effect.role] = effect.permissions
        else delete customRoles[effect.role]
        room.room.customRoles = customRoles
        return
      }
      case 'recall_all': {
        const rows = await tx.db
          .updateTable('messages')
          .set({ recalled_by: event.id, content: null, pinned_by: null })
          .where('room_id', '=', room.row.id)
          .where('sender', '=', effect.sender)
          .where('kind', '=', 'envelope')
          // Edits hold a message's words too.
          .where('type', 'in', ['message', 'edit'])
          .where('recalled_by', 'is', null)
          .returning('content_cid')
          .execute()
        application.contentCids.push(...rows.flatMap((row) => (row.content_cid ? [row.content_cid] : [])))
        return
      }
    }
  }

  if (room.room.members > 0 && room.room.owners === 0) {
    const senior = (await transactor.findSenior(room.row.id, 'admin')) ?? (await transactor.findSenior(room.row.id))
    if (senior) {
      await cache.members(tx.db, room, [senior.address])
      const state = room.members.get(senior.address)
      if (state) await setMember(senior.address, { ...state, role: 'owner' })
    }
  }
  if (room.room.members === 0 && !room.room.deleted) {
    room.room.deleted = true
    room.row.deleted_at = now
  }
  room.row.member_count = room.room.members
  markDue(room, event.type, application)
  return application
}

/**
 * A private room with E2EE on must rotate before its next encrypted message when a member left
 * or was removed (the key they hold must encrypt nothing more), when one joined (they read from
 * a new epoch on: no history by default), and when E2EE was turned on (docs/private-groups.md §7).
 */
function markDue(room: CachedRoom, type: LogEntry['event']['type'], { changed }: EventApplication): void {
  if (type === 'e2ee_off') room.row.rotation_due = null
  if (!room.room.e2ee) return
  if (type === 'e2ee_on') {
    room.row.rotation_due = 'e2ee_on'
    return
  }
  const removed = changed.some((change) => change.was === 'member' && change.status !== 'member')
  const joined = changed.some((change) => change.status === 'member')
  const removal: RotationCause = type === 'kick' || type === 'ban' ? type : 'leave'
  if (removed) room.row.rotation_due = removal
  else if (joined && !room.row.rotation_due) room.row.rotation_due = 'join'
}
