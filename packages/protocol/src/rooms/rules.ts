/**
 * The rules of rooms, once for everyone (protocol.md §6.5): given a room's state, may this actor
 * do this, and what changes? The server checks every call with these functions against its
 * database; every client replays a room's log with the same functions and flags any event the
 * server accepted that they refuse. Pure and synchronous; each side applies the changes its own
 * way (SQL on the server, a map in the client).
 */
import { inviteLinkProblem } from './link-rule.js'
import {
  containsLink,
  hasPermission,
  isBuiltInRole,
  outranks,
  type Permission,
  type RoleContext,
  rolePermissions,
  roleRank,
} from './permissions.js'
import type { RoomEvent } from './room-event.js'

export type MemberStatus = 'member' | 'invited' | 'requested' | 'none'

export type MemberState = {
  status: MemberStatus
  role: string
  /** The room position of the event that made this address a member (seniority); 0 if none. */
  joinedSeq: number
  /** Muted until then (ISO time); kept across leaving and joining again. */
  mutedUntil: string | null
  banned: boolean
  /** A ban that lifts by itself at this time; null while `banned` means for good. */
  bannedUntil: string | null
  /** While `invited`: the invitation lapses at this time; null means it does not. */
  invitedUntil: string | null
}

export const NO_MEMBER: MemberState = Object.freeze({
  status: 'none',
  role: 'member',
  joinedSeq: 0,
  mutedUntil: null,
  banned: false,
  bannedUntil: null,
  invitedUntil: null,
})

/** "Muted for good": what `mute` without `until` stores. */
export const FOREVER = '9999-12-31T23:59:59.999Z'

export type RoomSettings = RoleContext & {
  name: string | null
  description: string
  avatar: string | null
  deleted: boolean
  /** Private rooms: messages are end-to-end encrypted under the room's epoch keys. */
  e2ee: boolean
  /** With `e2ee`: a member may still send a message in plaintext, marked so (the per-message choice). */
  plain: boolean
}

export interface RoomStateView {
  readonly room: RoomSettings & { owners: number; members: number }
  member(address: string): MemberState
}

export type RuleFailureCode =
  | 'room_not_found'
  | 'not_member'
  | 'banned'
  | 'muted'
  | 'forbidden'
  | 'invalid_request'
  | 'conflict'
  | 'e2ee_required'
  | 'e2ee_off'
  | 'link_expired'
  | 'invitation_expired'
export type RuleFailure = { ok: false; code: RuleFailureCode; message: string; permission?: Permission | undefined }

/** A change to apply; `joined` sets `joinedSeq` to the event's own position. */
export type RoomEffect =
  | { kind: 'member'; address: string; set: Partial<MemberState>; joined?: boolean }
  /** Every member (but `except`) whose role is in `roles` (an `all` action). */
  | { kind: 'members'; roles: string[]; except: string; set: Partial<MemberState> }
  | {
      kind: 'room'
      set: Partial<Pick<RoomSettings, 'name' | 'description' | 'avatar' | 'announce' | 'deleted' | 'e2ee' | 'plain'>>
    }
  | { kind: 'role'; role: string; permissions: Permission[] | null }
  /** Every message of `sender` so far is recalled (a ban that removes messages). */
  | { kind: 'recall_all'; sender: string }

export type RulePlan = { ok: true; effects: RoomEffect[] }

/**
 * How a room's member and owner counts change when a member's state goes from `before` to
 * `next` (both sides keep the counts the succession rule needs).
 */
export function countsChange(before: MemberState, next: MemberState): { members: number; owners: number } {
  const counted = (state: MemberState) => (state.status === 'member' ? 1 : 0)
  const owner = (state: MemberState) => (state.status === 'member' && state.role === 'owner' ? 1 : 0)
  return { members: counted(next) - counted(before), owners: owner(next) - owner(before) }
}

export function isBanned(member: MemberState, at: string): boolean {
  return member.banned && (member.bannedUntil === null || member.bannedUntil > at)
}

/** Invited, and the invitation has not lapsed at `at`. */
export function isInvited(member: MemberState, at: string): boolean {
  return member.status === 'invited' && (member.invitedUntil === null || member.invitedUntil > at)
}

export function isMuted(member: MemberState, at: string): boolean {
  return member.mutedUntil !== null && member.mutedUntil > at
}

const fail = (code: RuleFailureCode, message: string, permission?: Permission): RuleFailure => ({
  ok: false,
  code,
  message,
  permission,
})
const missing = (permission: Permission): RuleFailure =>
  fail('forbidden', `This needs the "${permission}" permission, which your role does not have.`, permission)

const LEFT: Partial<MemberState> = { status: 'none', role: 'member', joinedSeq: 0 }
/** Joining again after a ban lapsed clears it. */
const BAN_LIFTED: Partial<MemberState> = { banned: false, bannedUntil: null }
/** What becoming a member sets (`invitedUntil` counts only while `invited`, so it may stay). */
const JOINED: Partial<MemberState> = { status: 'member', role: 'member', ...BAN_LIFTED }

/**
 * The first event of a room: who creates it becomes its Owner.
 * @example
 * import { planCreate } from '@dmtp/protocol'
 * const plan = planCreate(event) // { ok: true, effects: [...] }
 */
export function planCreate(event: RoomEvent): RulePlan | RuleFailure {
  if (event.type !== 'create') return fail('invalid_request', 'A room starts with a create event.')
  return {
    ok: true,
    effects: [
      {
        kind: 'room',
        set: { name: event.name, description: event.description, avatar: event.avatar, announce: event.announce },
      },
      { kind: 'member', address: event.actor, set: { status: 'member', role: 'owner' }, joined: true },
    ],
  }
}

/**
 * Checks an event against the room's state at its place in the log (`at`: when it happens).
 * @returns the changes to apply, or why the event is refused.
 */
export function planRoomEvent(view: RoomStateView, event: RoomEvent, at: string = event.at): RulePlan | RuleFailure {
  const { room } = view
  if (room.deleted) return fail('room_not_found', 'This room was deleted.')
  if (event.type === 'create') return fail('conflict', 'This room already exists.')
  if (room.type === 'p2p') return fail('invalid_request', '1:1 rooms have fixed members and no membership log.')
  const actor = view.member(event.actor)
  if (isBanned(actor, at)) return fail('banned', 'You are banned from this room.')
  switch (event.type) {
    case 'join': {
      if (actor.status === 'member') return fail('conflict', 'You are already a member of this room.')
      const problem = event.link && inviteLinkProblem(view, { ...event, link: event.link }, at)
      if (problem) return problem
      if (room.type !== 'public' && !event.link && !isInvited(actor, at)) {
        if (actor.status === 'invited') {
          return fail('invitation_expired', `Your invitation expired at ${actor.invitedUntil}: ask to be invited again.`)
        }
        return fail('forbidden', 'This room is private: ask to join, or be invited.')
      }
      return ok({ kind: 'member', address: event.actor, set: JOINED, joined: true })
    }
    case 'request':
      if (room.type !== 'private') return fail('invalid_request', 'Only private rooms take requests to join.')
      if (actor.status === 'member') return fail('conflict', 'You are already a member of this room.')
      if (isInvited(actor, at)) return fail('conflict', 'You are invited: join directly.')
      if (actor.status === 'requested') return fail('conflict', 'You have already asked to join.')
      return (
        (event.link && inviteLinkProblem(view, { ...event, link: event.link }, at)) ??
        ok({ kind: 'member', address: event.actor, set: { status: 'requested' } })
      )
    case 'leave':
      if (actor.status === 'none') return fail('not_member', 'You are not a member of this room.')
      return ok({ kind: 'member', address: event.actor, set: LEFT })
  }
  if (actor.status !== 'member') return fail('not_member', 'You are not a member of this room.')
  const holds = (permission: Permission) => hasPermission(room, actor.role, permission)
  switch (event.type) {
    case 'invite': {
      if (!holds('invite')) return missing('invite')
      if (event.until != null && event.until <= at) return fail('invalid_request', 'An invitation must end in the future.')
      const effects: RoomEffect[] = []
      for (const address of event.members) {
        const subject = view.member(address)
        if (isBanned(subject, at)) return fail('banned', `${address} is banned from this room.`)
        if (subject.status === 'member') return fail('conflict', `${address} is already a member.`)
        effects.push({ kind: 'member', address, set: { status: 'invited', invitedUntil: event.until ?? null } })
      }
      return { ok: true, effects }
    }
    case 'approve':
    case 'reject': {
      if (!holds('accept_join_request')) return missing('accept_join_request')
      const effects: RoomEffect[] = []
      for (const address of event.members) {
        if (view.member(address).status !== 'requested') return fail('conflict', `${address} has not asked to join.`)
        effects.push(
          event.type === 'approve'
            ? { kind: 'member', address, set: JOINED, joined: true }
            : { kind: 'member', address, set: { status: 'none' } },
        )
      }
      return { ok: true, effects }
    }
    case 'kick':
      return moderate(
        view,
        event,
        actor,
        'kick',
        (subject) => (subject.status === 'member' ? undefined : 'is not a member'),
        LEFT,
      )
    case 'mute':
      if (event.until !== null && event.until <= at) return fail('invalid_request', 'A mute must end in the future.')
      return moderate(view, event, actor, 'mute', (subject) => (subject.status === 'member' ? undefined : 'is not a member'), {
        mutedUntil: event.until ?? FOREVER,
      })
    case 'unmute':
      return moderate(view, event, actor, 'unmute', (subject) => (isMuted(subject, at) ? undefined : 'is not muted'), {
        mutedUntil: null,
      })
    case 'ban': {
      if (event.until !== null && event.until <= at) return fail('invalid_request', 'A ban must end in the future.')
      if (event.removeMessages && event.all) {
        return fail('invalid_request', 'Removing messages takes named members (a ban of all cannot say whose).')
      }
      const plan = moderate(view, event, actor, 'ban', () => undefined, { ...LEFT, banned: true, bannedUntil: event.until })
      if (plan.ok && event.removeMessages && !holds('recall_others')) return missing('recall_others')
      if (!plan.ok || !event.removeMessages) return plan
      return {
        ok: true,
        effects: [...plan.effects, ...(event.members ?? []).map((sender) => ({ kind: 'recall_all' as const, sender }))],
      }
    }
    case 'unban': {
      if (!holds('unban')) return missing('unban')
      for (const address of event.members) {
        if (!isBanned(view.member(address), at)) return fail('conflict', `${address} is not banned.`)
      }
      return {
        ok: true,
        effects: event.members.map((address) => ({ kind: 'member', address, set: { banned: false, bannedUntil: null } })),
      }
    }
    case 'set_role': {
      if (!holds('set_role')) return missing('set_role')
      const granted = rolePermissions(room, event.role)
      if (!granted) return fail('invalid_request', `This room has no role "${event.role}".`)
      const beyond = notHeld(room, actor.role, granted)
      if (beyond) return fail('forbidden', `You cannot grant "${beyond}", which you do not hold.`, beyond)
      // Nobody appoints above their own rank (they could not undo it).
      if (actor.role !== 'owner' && roleRank(event.role) > roleRank(actor.role)) {
        return fail('forbidden', `Your role cannot appoint members as "${event.role}", a role above your own.`, 'set_role')
      }
      for (const address of event.members) {
        if (address === event.actor) return fail('invalid_request', 'You cannot change your own role.')
        const subject = view.member(address)
        if (subject.status !== 'member') return fail('conflict', `${address} is not a member.`)
        if (!outranks(actor.role, subject.role))
          return fail('forbidden', `Your role cannot change the role of ${address}.`, 'set_role')
      }
      return { ok: true, effects: event.members.map((address) => ({ kind: 'member', address, set: { role: event.role } })) }
    }
    case 'define_role':
    case 'delete_role': {
      if (!holds('set_role')) return missing('set_role')
      if (isBuiltInRole(event.role)) return fail('invalid_request', `"${event.role}" is a built-in role.`)
      // Own roles only: a role named like an Object.prototype member ("constructor") is not defined.
      const existing = Object.hasOwn(room.customRoles, event.role) ? room.customRoles[event.role] : undefined
      if (event.type === 'delete_role' && !existing) return fail('invalid_request', `This room has no role "${event.role}".`)
      const beyond = notHeld(room, actor.role, [...(existing ?? []), ...(event.type === 'define_role' ? event.permissions : [])])
      if (beyond) return fail('forbidden', `You cannot grant "${beyond}", which you do not hold.`, beyond)
      if (event.type === 'define_role') return ok({ kind: 'role', role: event.role, permissions: [...event.permissions] })
      return {
        ok: true,
        effects: [
          { kind: 'members', roles: [event.role], except: '', set: { role: 'member' } },
          { kind: 'role', role: event.role, permissions: null },
        ],
      }
    }
    case 'update': {
      if (!holds('set_info')) return missing('set_info')
      const { name, description, avatar, announce } = event
      const set: Extract<RoomEffect, { kind: 'room' }>['set'] = {}
      if (name !== undefined) set.name = name
      if (description !== undefined) set.description = description
      if (avatar !== undefined) set.avatar = avatar
      if (announce !== undefined) set.announce = announce
      if (Object.keys(set).length === 0) return fail('invalid_request', 'An update changes at least one setting.')
      return ok({ kind: 'room', set })
    }
    case 'delete':
      if (!holds('delete_room')) return missing('delete_room')
      return ok({ kind: 'room', set: { deleted: true } })
    case 'e2ee_on':
      if (room.type !== 'private') return fail('invalid_request', 'Only private rooms are end-to-end encrypted.')
      if (!holds('e2ee_on')) return missing('e2ee_on')
      if (room.e2ee) return fail('conflict', 'End-to-end encryption is already on in this room.')
      return ok({ kind: 'room', set: { e2ee: true, plain: event.plain } })
    case 'e2ee_off':
      if (!holds('e2ee_off')) return missing('e2ee_off')
      if (!room.e2ee) return fail('conflict', 'End-to-end encryption is already off in this room.')
      return ok({ kind: 'room', set: { e2ee: false, plain: false } })
  }
}

function ok(...effects: RoomEffect[]): RulePlan {
  return { ok: true, effects }
}

/** The first permission in `wanted` that `role` does not hold. */
function notHeld(room: RoleContext, role: string, wanted: readonly Permission[]): Permission | undefined {
  const held = rolePermissions(room, role) ?? []
  return wanted.find((permission) => !held.includes(permission))
}

/**
 * A moderation action on named members, or on everyone without the permission (`all`): the actor
 * holds `permission`, and outranks each subject that is a member.
 */
function moderate(
  view: RoomStateView,
  event: { actor: string; members?: string[] | undefined; all?: true | undefined },
  actor: MemberState,
  permission: Permission,
  problem: (subject: MemberState) => string | undefined,
  set: Partial<MemberState>,
): RulePlan | RuleFailure {
  const { room } = view
  if (!hasPermission(room, actor.role, permission)) return missing(permission)
  if (event.all) {
    const roles = allRoles(room).filter((role) => !hasPermission(room, role, permission) && outranks(actor.role, role))
    return ok({ kind: 'members', roles, except: event.actor, set })
  }
  const members = event.members ?? []
  if (members.length === 0) return fail('invalid_request', 'Name the members, or all.')
  for (const address of members) {
    if (address === event.actor) return fail('invalid_request', 'You cannot do this to yourself.')
    const subject = view.member(address)
    const why = problem(subject)
    if (why) return fail('conflict', `${address} ${why}.`)
    if (subject.status === 'member' && !outranks(actor.role, subject.role)) {
      return fail('forbidden', `Your role cannot ${permission} ${address}.`, permission)
    }
  }
  return { ok: true, effects: members.map((address) => ({ kind: 'member', address, set })) }
}

function allRoles(room: RoleContext): string[] {
  return ['owner', 'admin', 'sub-admin', 'member', ...Object.keys(room.customRoles)]
}

/** What a message or message action is, for the checks of {@link planRoomAction}. */
export type RoomActionType = 'message' | 'edit' | 'react' | 'unreact' | 'recall' | 'pin' | 'unpin'

export type RoomActionTarget = { sender: string; type: RoomActionType; recalled: boolean }

/**
 * May `sender` post this message or action now? `target` is the message an action refers to
 * (undefined when it does not exist); `text` the plain text of a public message, for the link rule;
 * `e2ee`, for a message of a group, whether it is end-to-end encrypted (a private room with E2EE
 * on takes plaintext only when it allows the per-message choice; one with E2EE off takes none).
 */
export function planRoomAction(
  view: RoomStateView,
  {
    sender,
    type,
    at,
    target,
    text,
    e2ee,
  }: {
    sender: string
    type: RoomActionType
    at: string
    target?: RoomActionTarget | undefined
    text?: string | undefined
    e2ee?: boolean | undefined
  },
): { ok: true } | RuleFailure {
  const { room } = view
  if (room.deleted) return fail('room_not_found', 'This room was deleted.')
  if (e2ee === true && !room.e2ee) {
    return fail('e2ee_off', 'End-to-end encryption is off in this room: send the message as plaintext.')
  }
  if (e2ee === false && room.e2ee && !room.plain) {
    return fail('e2ee_required', 'This room is end-to-end encrypted and takes no plaintext messages.')
  }
  const member = view.member(sender)
  if (isBanned(member, at)) return fail('banned', 'You are banned from this room.')
  if (member.status !== 'member') return fail('not_member', 'You are not a member of this room.')
  const holds = (permission: Permission) => hasPermission(room, member.role, permission)
  if (type !== 'message') {
    if (target?.type !== 'message') return fail('invalid_request', 'The message this refers to does not exist in this room.')
    if (target.recalled) return fail('conflict', 'That message was recalled.')
  }
  if (type === 'recall') {
    return target?.sender === sender || holds('recall_others') ? { ok: true } : missing('recall_others')
  }
  if (isMuted(member, at)) return fail('muted', `You are muted in this room until ${member.mutedUntil}.`)
  switch (type) {
    case 'message':
    case 'edit':
      if (!holds('send')) return missing('send')
      if (type === 'edit' && target?.sender !== sender) return fail('forbidden', 'Only its author can edit a message.')
      if (text !== undefined && !holds('send_links') && containsLink(text)) return missing('send_links')
      return { ok: true }
    case 'react':
    case 'unreact':
      return holds('react') ? { ok: true } : missing('react')
    case 'pin':
    case 'unpin':
      return holds('pin') ? { ok: true } : missing('pin')
  }
}

/**
 * Who owns the room once its last Owner is gone: the longest-standing Admin, else the
 * longest-standing member (the lowest join position, then the lowest lower-case address).
 */
export function pickSuccessor(members: { address: string; role: string; joinedSeq: number }[]): string | undefined {
  // Members let in by one event share a position: the lower-case address breaks the tie.
  const bySeniority = [...members].sort(
    (a, b) => a.joinedSeq - b.joinedSeq || (a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1),
  )
  return (bySeniority.find((member) => member.role === 'admin') ?? bySeniority[0])?.address
}
