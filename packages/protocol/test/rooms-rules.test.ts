/**
 * The rules of rooms (`rooms/rules.ts`) against one hand-written room: every event type and
 * message action, allowed and refused, with the failure code and, for `forbidden`, the permission
 * named. Every expected outcome is written out here, never computed with the functions under test.
 *
 * The room: two Owners, two Admins, two Sub Admins, five custom roles (rank 15, between Member
 * and Sub Admin), Members, and addresses in every other state (invited, requested, banned for good
 * or until later, a ban that has lapsed, muted, left while muted, never seen).
 */
import {
  FOREVER,
  isBanned,
  isInvited,
  isMuted,
  type MemberState,
  NO_MEMBER,
  type Permission,
  pickSuccessor,
  planCreate,
  planRoomAction,
  planRoomEvent,
  ROOM_EVENT_TYPES,
  type RoomActionTarget,
  type RoomActionType,
  type RoomEvent,
  type RoomEventBody,
  type RoomSettings,
  type RoomStateView,
} from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'

/** An EIP-55 address of decimal digits only (so its checksummed form is itself). */
const address = (n: number) => `0x${String(n).padStart(40, '0')}`

const OWNER = address(1)
const OWNER_2 = address(2)
const ADMIN = address(3)
const ADMIN_2 = address(4)
const SUB_ADMIN = address(5)
const SUB_ADMIN_2 = address(6)
/** Custom role `mod`: send, react, invite, kick, mute, unmute. */
const MOD = address(7)
const MOD_2 = address(8)
/** Custom role `helper`: send, react. */
const HELPER = address(9)
/** Custom role `roler`: set_role, send, react, invite. */
const ROLER = address(10)
/** Custom role `banner`: send, ban (no recall_others). */
const BANNER = address(11)
/** Custom role `quiet`: send (no react). */
const QUIET = address(12)
const MEMBER = address(13)
const MEMBER_2 = address(14)
/** A member muted until LATER. */
const MUTED = address(15)
/** A member muted for good. */
const MUTED_FOREVER = address(16)
const INVITED = address(17)
const REQUESTED = address(18)
/** Never seen by the room. */
const OUTSIDER = address(19)
/** Banned for good. */
const BANNED = address(20)
/** Banned until LATER. */
const BANNED_UNTIL = address(21)
/** Was banned until EARLIER: the ban has lapsed. */
const LAPSED = address(22)
/** Left (or was kicked) while muted until LATER. */
const LEFT_MUTED = address(23)

const EARLIER = '2026-06-01T11:00:00.000Z'
const AT = '2026-06-01T12:00:00.000Z'
const LATER = '2026-06-01T13:00:00.000Z'

const ROOM = 'cm9vbS1ydWxlcy10ZXN0MQ'
const KEY = 'baguqeeraxyq3mxvdhdzwywgmpmyrrc3p4iwzfpgxnr6ty6ykzp6jcsnrdrfq'

const CUSTOM_ROLES: Record<string, Permission[]> = {
  mod: ['send', 'react', 'invite', 'kick', 'mute', 'unmute'],
  helper: ['send', 'react'],
  roler: ['set_role', 'send', 'react', 'invite'],
  banner: ['send', 'ban'],
  quiet: ['send'],
}

const member = (role: string, more: Partial<MemberState> = {}): MemberState => ({
  ...NO_MEMBER,
  status: 'member',
  role,
  joinedSeq: 2,
  ...more,
})

const MEMBERS: Record<string, MemberState> = {
  [OWNER]: member('owner', { joinedSeq: 1 }),
  [OWNER_2]: member('owner'),
  [ADMIN]: member('admin'),
  [ADMIN_2]: member('admin'),
  [SUB_ADMIN]: member('sub-admin'),
  [SUB_ADMIN_2]: member('sub-admin'),
  [MOD]: member('mod'),
  [MOD_2]: member('mod'),
  [HELPER]: member('helper'),
  [ROLER]: member('roler'),
  [BANNER]: member('banner'),
  [QUIET]: member('quiet'),
  [MEMBER]: member('member'),
  [MEMBER_2]: member('member'),
  [MUTED]: member('member', { mutedUntil: LATER }),
  [MUTED_FOREVER]: member('member', { mutedUntil: FOREVER }),
  [INVITED]: { ...NO_MEMBER, status: 'invited' },
  [REQUESTED]: { ...NO_MEMBER, status: 'requested' },
  [BANNED]: { ...NO_MEMBER, banned: true },
  [BANNED_UNTIL]: { ...NO_MEMBER, banned: true, bannedUntil: LATER },
  [LAPSED]: { ...NO_MEMBER, banned: true, bannedUntil: EARLIER },
  [LEFT_MUTED]: { ...NO_MEMBER, mutedUntil: LATER },
}

function roomView({
  type = 'public',
  announce = false,
  deleted = false,
  e2ee = false,
  plain = false,
  members = MEMBERS,
  customRoles = CUSTOM_ROLES,
}: {
  type?: RoomSettings['type']
  announce?: boolean
  deleted?: boolean
  e2ee?: boolean
  plain?: boolean
  members?: Record<string, MemberState>
  customRoles?: Record<string, Permission[]>
} = {}): RoomStateView {
  return {
    room: {
      type,
      announce,
      customRoles,
      name: 'Rules',
      description: '',
      avatar: null,
      deleted,
      e2ee,
      plain,
      owners: 2,
      members: 16,
    },
    member: (who) => (Object.hasOwn(members, who) ? (members[who] as MemberState) : NO_MEMBER),
  }
}

const PUBLIC = roomView()
const PRIVATE = roomView({ type: 'private' })
const LIMITED = roomView({ type: 'limited' })
const ANNOUNCE = roomView({ announce: true })
const P2P = roomView({ type: 'p2p', members: { [MEMBER]: member('member'), [MEMBER_2]: member('member') } })
const DELETED = roomView({ deleted: true })

/** A room event as the rules see it (they never look at the signature). */
function event(actor: string, body: RoomEventBody, at = AT): RoomEvent {
  return {
    v: 1,
    id: 'ZXZlbnQtaWQtMDAwMDAwMQ',
    room: ROOM,
    actor,
    actorKey: KEY,
    at,
    basis: 0,
    ...body,
    signature: 'x',
  } as RoomEvent
}

const plan = (view: RoomStateView, actor: string, body: RoomEventBody, at = AT) => planRoomEvent(view, event(actor, body, at), at)

// The expected outcomes, written out.
const allowed = (...effects: unknown[]) => ({ ok: true, effects })
const refused = (code: string, message: string, permission?: Permission) => ({ ok: false, code, message, permission })
const needs = (permission: Permission) =>
  refused('forbidden', `This needs the "${permission}" permission, which your role does not have.`, permission)
const cannotGrant = (permission: Permission) =>
  refused('forbidden', `You cannot grant "${permission}", which you do not hold.`, permission)
const notMember = refused('not_member', 'You are not a member of this room.')
const youAreBanned = refused('banned', 'You are banned from this room.')
const LEFT = { status: 'none', role: 'member', joinedSeq: 0 }
/** Joining (or being approved) makes a Member, and clears a ban that has lapsed (a live one refuses the join). */
const JOINED = { status: 'member', role: 'member', banned: false, bannedUntil: null }

describe('planCreate', () => {
  test('default', () => {
    const create = event(OWNER, {
      type: 'create',
      roomType: 'private',
      name: 'Crew',
      description: 'The crew',
      announce: true,
      avatar: KEY,
    })
    expect(planCreate(create)).toEqual(
      allowed(
        { kind: 'room', set: { name: 'Crew', description: 'The crew', avatar: KEY, announce: true } },
        { kind: 'member', address: OWNER, set: { status: 'member', role: 'owner' }, joined: true },
      ),
    )
  })

  test('behavior: a room starts with a create event, nothing else', () => {
    for (const type of ['join', 'request', 'leave', 'delete'] as const) {
      expect(planCreate(event(OWNER, { type }))).toEqual(refused('invalid_request', 'A room starts with a create event.'))
    }
    expect(planCreate(event(OWNER, { type: 'invite', members: [MEMBER] }))).toEqual(
      refused('invalid_request', 'A room starts with a create event.'),
    )
  })
})

describe('planRoomEvent', () => {
  test('default', () => {
    expect(plan(PUBLIC, OUTSIDER, { type: 'join' })).toEqual(
      allowed({ kind: 'member', address: OUTSIDER, set: JOINED, joined: true }),
    )
  })

  test('behavior: nothing happens in a deleted room', () => {
    const deleted = refused('room_not_found', 'This room was deleted.')
    expect(plan(DELETED, OUTSIDER, { type: 'join' })).toEqual(deleted)
    expect(plan(DELETED, OWNER, { type: 'leave' })).toEqual(deleted)
    expect(plan(DELETED, OWNER, { type: 'delete' })).toEqual(deleted)
    expect(plan(DELETED, OWNER, { type: 'update', name: 'Again' })).toEqual(deleted)
    expect(
      plan(DELETED, OWNER, { type: 'create', roomType: 'public', name: 'x', description: '', announce: false, avatar: null }),
    ).toEqual(deleted)
  })

  test('behavior: a second create is a conflict', () => {
    const create: RoomEventBody = {
      type: 'create',
      roomType: 'public',
      name: 'x',
      description: '',
      announce: false,
      avatar: null,
    }
    expect(plan(PUBLIC, OWNER, create)).toEqual(refused('conflict', 'This room already exists.'))
    expect(plan(P2P, MEMBER, create)).toEqual(refused('conflict', 'This room already exists.'))
  })

  test('behavior: a 1:1 room takes no log event at all', () => {
    const bodies: RoomEventBody[] = [
      { type: 'join' },
      { type: 'request' },
      { type: 'leave' },
      { type: 'delete' },
      { type: 'invite', members: [OUTSIDER] },
      { type: 'approve', members: [OUTSIDER] },
      { type: 'reject', members: [OUTSIDER] },
      { type: 'unban', members: [OUTSIDER] },
      { type: 'kick', members: [MEMBER_2] },
      { type: 'unmute', all: true },
      { type: 'mute', members: [MEMBER_2], until: null },
      { type: 'ban', members: [MEMBER_2], until: null, removeMessages: false },
      { type: 'set_role', members: [MEMBER_2], role: 'admin' },
      { type: 'define_role', role: 'mod', permissions: [] },
      { type: 'delete_role', role: 'mod' },
      { type: 'update', name: 'Pair' },
      { type: 'e2ee_on', plain: false },
      { type: 'e2ee_off' },
    ]
    expect(new Set(bodies.map((body) => body.type))).toEqual(new Set(ROOM_EVENT_TYPES.filter((type) => type !== 'create')))
    for (const body of bodies) {
      for (const actor of [MEMBER, OUTSIDER]) {
        expect(plan(P2P, actor, body), `${body.type} by ${actor}`).toEqual(
          refused('invalid_request', '1:1 rooms have fixed members and no membership log.'),
        )
      }
    }
  })

  test('behavior: a banned actor can do nothing, until the ban lifts at its time', () => {
    for (const view of [PUBLIC, PRIVATE]) {
      for (const type of ['join', 'request', 'leave'] as const) {
        expect(plan(view, BANNED, { type })).toEqual(youAreBanned)
        expect(plan(view, BANNED_UNTIL, { type })).toEqual(youAreBanned)
        expect(plan(view, BANNED_UNTIL, { type }, EARLIER)).toEqual(youAreBanned)
      }
    }
    // At `until` exactly the ban is over.
    expect(plan(PUBLIC, BANNED_UNTIL, { type: 'join' }, LATER)).toEqual(
      allowed({ kind: 'member', address: BANNED_UNTIL, set: JOINED, joined: true }),
    )
    expect(plan(PUBLIC, LAPSED, { type: 'join' })).toEqual(
      allowed({ kind: 'member', address: LAPSED, set: JOINED, joined: true }),
    )
    expect(plan(PRIVATE, LAPSED, { type: 'request' })).toEqual(
      allowed({ kind: 'member', address: LAPSED, set: { status: 'requested' } }),
    )
    // A banned address that the view still shows as a member (it never is: a ban removes) acts as banned.
    const stale = roomView({ members: { ...MEMBERS, [ADMIN]: member('admin', { banned: true }) } })
    expect(plan(stale, ADMIN, { type: 'kick', members: [MEMBER] })).toEqual(youAreBanned)
  })

  test('behavior: `at` is when the event happens (the ban and mute clocks), defaulting to the event time', () => {
    const early = event(BANNED_UNTIL, { type: 'join' }, EARLIER)
    expect(planRoomEvent(PUBLIC, early)).toEqual(youAreBanned)
    expect(planRoomEvent(PUBLIC, early, LATER)).toEqual(
      allowed({ kind: 'member', address: BANNED_UNTIL, set: JOINED, joined: true }),
    )
  })

  describe('join', () => {
    test('behavior: anyone joins a public room, whatever their standing but a member', () => {
      for (const who of [OUTSIDER, INVITED, REQUESTED, LEFT_MUTED]) {
        expect(plan(PUBLIC, who, { type: 'join' })).toEqual(allowed({ kind: 'member', address: who, set: JOINED, joined: true }))
      }
    })

    test('behavior: joining again is a conflict', () => {
      for (const who of [MEMBER, OWNER, MUTED]) {
        for (const view of [PUBLIC, PRIVATE]) {
          expect(plan(view, who, { type: 'join' })).toEqual(refused('conflict', 'You are already a member of this room.'))
        }
      }
    })

    test('behavior: a private or limited room is joined by invitation only', () => {
      const privateRoom = refused('forbidden', 'This room is private: ask to join, or be invited.')
      for (const view of [PRIVATE, LIMITED]) {
        expect(plan(view, OUTSIDER, { type: 'join' })).toEqual(privateRoom)
        expect(plan(view, REQUESTED, { type: 'join' })).toEqual(privateRoom)
        expect(plan(view, LAPSED, { type: 'join' })).toEqual(privateRoom)
        expect(plan(view, INVITED, { type: 'join' })).toEqual(
          allowed({ kind: 'member', address: INVITED, set: JOINED, joined: true }),
        )
      }
      // @NOTE this `forbidden` names no permission: no role could hold one that lets a stranger in.
      expect(plan(PRIVATE, OUTSIDER, { type: 'join' })).toHaveProperty('permission', undefined)
    })

    test('behavior: joining clears a ban that has lapsed', () => {
      expect(plan(PUBLIC, LAPSED, { type: 'join' })).toEqual(
        allowed({
          kind: 'member',
          address: LAPSED,
          set: { status: 'member', role: 'member', banned: false, bannedUntil: null },
          joined: true,
        }),
      )
      // A ban lapsed at the join's time, in a private room the banned address was invited to since.
      const invitedAfterBan = roomView({
        type: 'private',
        members: { ...MEMBERS, [BANNED_UNTIL]: { ...NO_MEMBER, status: 'invited', banned: true, bannedUntil: LATER } },
      })
      expect(plan(invitedAfterBan, BANNED_UNTIL, { type: 'join' })).toEqual(youAreBanned)
      expect(plan(invitedAfterBan, BANNED_UNTIL, { type: 'join' }, LATER)).toEqual(
        allowed({
          kind: 'member',
          address: BANNED_UNTIL,
          set: { status: 'member', role: 'member', banned: false, bannedUntil: null },
          joined: true,
        }),
      )
    })

    test('behavior: a mute outlives leaving and joining again', () => {
      const joined = plan(PUBLIC, LEFT_MUTED, { type: 'join' })
      expect(joined).toEqual(allowed({ kind: 'member', address: LEFT_MUTED, set: JOINED, joined: true }))
      expect(JSON.stringify(joined)).not.toContain('mutedUntil')
    })
  })

  describe('request', () => {
    test('behavior: an outsider asks to join a private room', () => {
      expect(plan(PRIVATE, OUTSIDER, { type: 'request' })).toEqual(
        allowed({ kind: 'member', address: OUTSIDER, set: { status: 'requested' } }),
      )
      // Someone whose ban has lapsed asks like anyone else.
      expect(plan(PRIVATE, LAPSED, { type: 'request' })).toEqual(
        allowed({ kind: 'member', address: LAPSED, set: { status: 'requested' } }),
      )
    })

    test('behavior: only private rooms take requests (public and limited rooms do not)', () => {
      const privateOnly = refused('invalid_request', 'Only private rooms take requests to join.')
      for (const who of [OUTSIDER, INVITED, REQUESTED, MEMBER, LAPSED]) {
        expect(plan(PUBLIC, who, { type: 'request' }), `public, ${who}`).toEqual(privateOnly)
        expect(plan(LIMITED, who, { type: 'request' }), `limited, ${who}`).toEqual(privateOnly)
      }
      expect(plan(ANNOUNCE, OUTSIDER, { type: 'request' })).toEqual(privateOnly)
    })

    test('behavior: members, invitees and those who already asked do not ask', () => {
      expect(plan(PRIVATE, MEMBER, { type: 'request' })).toEqual(refused('conflict', 'You are already a member of this room.'))
      expect(plan(PRIVATE, INVITED, { type: 'request' })).toEqual(refused('conflict', 'You are invited: join directly.'))
      expect(plan(PRIVATE, REQUESTED, { type: 'request' })).toEqual(refused('conflict', 'You have already asked to join.'))
    })
  })

  describe('leave', () => {
    test('behavior: members leave; invitees decline and requests are withdrawn the same way', () => {
      for (const who of [MEMBER, OWNER, ADMIN, MOD, MUTED, INVITED, REQUESTED]) {
        expect(plan(PRIVATE, who, { type: 'leave' })).toEqual(allowed({ kind: 'member', address: who, set: LEFT }))
      }
    })

    test('behavior: who is not in the room cannot leave it', () => {
      for (const who of [OUTSIDER, LAPSED, LEFT_MUTED]) {
        expect(plan(PUBLIC, who, { type: 'leave' })).toEqual(notMember)
      }
    })
  })

  test('behavior: every other event needs a member as its actor', () => {
    const bodies: RoomEventBody[] = [
      { type: 'invite', members: [OUTSIDER] },
      { type: 'approve', members: [REQUESTED] },
      { type: 'reject', members: [REQUESTED] },
      { type: 'kick', members: [MEMBER] },
      { type: 'kick', all: true },
      { type: 'mute', members: [MEMBER], until: null },
      { type: 'unmute', members: [MUTED] },
      { type: 'ban', members: [MEMBER], until: null, removeMessages: false },
      { type: 'unban', members: [BANNED] },
      { type: 'set_role', members: [MEMBER], role: 'admin' },
      { type: 'define_role', role: 'new', permissions: [] },
      { type: 'delete_role', role: 'mod' },
      { type: 'update', name: 'Mine' },
      { type: 'delete' },
    ]
    for (const body of bodies) {
      for (const who of [OUTSIDER, INVITED, REQUESTED, LAPSED, LEFT_MUTED]) {
        expect(plan(PRIVATE, who, body), `${body.type} by ${who}`).toEqual(notMember)
      }
    }
  })

  describe('invite', () => {
    test('behavior: a member invites outsiders, requesters and invitees (again)', () => {
      expect(plan(PRIVATE, MEMBER, { type: 'invite', members: [OUTSIDER, REQUESTED, INVITED, LAPSED] })).toEqual(
        allowed(
          { kind: 'member', address: OUTSIDER, set: { status: 'invited', invitedUntil: null } },
          { kind: 'member', address: REQUESTED, set: { status: 'invited', invitedUntil: null } },
          { kind: 'member', address: INVITED, set: { status: 'invited', invitedUntil: null } },
          { kind: 'member', address: LAPSED, set: { status: 'invited', invitedUntil: null } },
        ),
      )
      // Also into a public room, and by a Member of an announcement-only room.
      expect(plan(PUBLIC, MEMBER, { type: 'invite', members: [OUTSIDER] })).toEqual(
        allowed({ kind: 'member', address: OUTSIDER, set: { status: 'invited', invitedUntil: null } }),
      )
      expect(plan(ANNOUNCE, MEMBER, { type: 'invite', members: [OUTSIDER] })).toEqual(
        allowed({ kind: 'member', address: OUTSIDER, set: { status: 'invited', invitedUntil: null } }),
      )
    })

    test('behavior: an invitation may end (`until`), which must be after the event', () => {
      expect(plan(PRIVATE, MEMBER, { type: 'invite', members: [OUTSIDER], until: LATER })).toEqual(
        allowed({ kind: 'member', address: OUTSIDER, set: { status: 'invited', invitedUntil: LATER } }),
      )
      expect(plan(PRIVATE, MEMBER, { type: 'invite', members: [OUTSIDER], until: AT })).toEqual(
        refused('invalid_request', 'An invitation must end in the future.'),
      )
      expect(plan(PRIVATE, MEMBER, { type: 'invite', members: [OUTSIDER], until: EARLIER })).toEqual(
        refused('invalid_request', 'An invitation must end in the future.'),
      )
    })

    test('behavior: a lapsed invitation lets nobody join; the invitee may ask instead, or be invited again', () => {
      const view = roomView({
        type: 'private',
        members: { ...MEMBERS, [INVITED]: { ...NO_MEMBER, status: 'invited', invitedUntil: LATER } },
      })
      expect(isInvited(view.member(INVITED), AT)).toBe(true)
      expect(isInvited(view.member(INVITED), LATER)).toBe(false)
      expect(plan(view, INVITED, { type: 'join' }).ok).toBe(true)
      expect(plan(view, INVITED, { type: 'join' }, LATER)).toEqual(
        refused('invitation_expired', `Your invitation expired at ${LATER}: ask to be invited again.`),
      )
      expect(plan(view, INVITED, { type: 'request' })).toEqual(refused('conflict', 'You are invited: join directly.'))
      expect(plan(view, INVITED, { type: 'request' }, LATER)).toEqual(
        allowed({ kind: 'member', address: INVITED, set: { status: 'requested' } }),
      )
      // In a public room, anyone joins: a lapsed invitation changes nothing.
      const open = roomView({ members: { ...MEMBERS, [INVITED]: { ...NO_MEMBER, status: 'invited', invitedUntil: EARLIER } } })
      expect(plan(open, INVITED, { type: 'join' }).ok).toBe(true)
    })

    test('behavior: needs the invite permission', () => {
      expect(plan(PRIVATE, HELPER, { type: 'invite', members: [OUTSIDER] })).toEqual(needs('invite'))
      expect(plan(PRIVATE, BANNER, { type: 'invite', members: [OUTSIDER] })).toEqual(needs('invite'))
    })

    test('behavior: a banned address cannot be invited, until its ban lifts', () => {
      expect(plan(PRIVATE, ADMIN, { type: 'invite', members: [OUTSIDER, BANNED] })).toEqual(
        refused('banned', `${BANNED} is banned from this room.`),
      )
      expect(plan(PRIVATE, OWNER, { type: 'invite', members: [BANNED_UNTIL] })).toEqual(
        refused('banned', `${BANNED_UNTIL} is banned from this room.`),
      )
      expect(plan(PRIVATE, OWNER, { type: 'invite', members: [BANNED_UNTIL] }, LATER)).toEqual(
        allowed({ kind: 'member', address: BANNED_UNTIL, set: { status: 'invited', invitedUntil: null } }),
      )
    })

    test('behavior: a member is not invited', () => {
      expect(plan(PRIVATE, MEMBER, { type: 'invite', members: [OUTSIDER, MEMBER_2] })).toEqual(
        refused('conflict', `${MEMBER_2} is already a member.`),
      )
      expect(plan(PRIVATE, MEMBER, { type: 'invite', members: [MEMBER] })).toEqual(
        refused('conflict', `${MEMBER} is already a member.`),
      )
    })
  })

  describe('approve and reject', () => {
    test('behavior: a Sub Admin approves or rejects a request', () => {
      expect(plan(PRIVATE, SUB_ADMIN, { type: 'approve', members: [REQUESTED] })).toEqual(
        allowed({ kind: 'member', address: REQUESTED, set: JOINED, joined: true }),
      )
      expect(plan(PRIVATE, SUB_ADMIN, { type: 'reject', members: [REQUESTED] })).toEqual(
        allowed({ kind: 'member', address: REQUESTED, set: { status: 'none' } }),
      )
      expect(plan(PRIVATE, OWNER, { type: 'approve', members: [REQUESTED] })).toEqual(
        allowed({ kind: 'member', address: REQUESTED, set: JOINED, joined: true }),
      )
    })

    test('behavior: approving clears a ban that has lapsed', () => {
      const lapsedRequest = { ...NO_MEMBER, status: 'requested', banned: true, bannedUntil: EARLIER } as const
      const view = roomView({ type: 'private', members: { ...MEMBERS, [LAPSED]: lapsedRequest } })
      expect(plan(view, ADMIN, { type: 'approve', members: [LAPSED] })).toEqual(
        allowed({
          kind: 'member',
          address: LAPSED,
          set: { status: 'member', role: 'member', banned: false, bannedUntil: null },
          joined: true,
        }),
      )
      // A rejection leaves the (lapsed) ban as it was.
      expect(plan(view, ADMIN, { type: 'reject', members: [LAPSED] })).toEqual(
        allowed({ kind: 'member', address: LAPSED, set: { status: 'none' } }),
      )
    })

    test('behavior: needs accept_join_request', () => {
      for (const who of [MEMBER, MOD, HELPER, ROLER]) {
        expect(plan(PRIVATE, who, { type: 'approve', members: [REQUESTED] })).toEqual(needs('accept_join_request'))
        expect(plan(PRIVATE, who, { type: 'reject', members: [REQUESTED] })).toEqual(needs('accept_join_request'))
      }
    })

    test('behavior: only a pending request is approved or rejected', () => {
      for (const type of ['approve', 'reject'] as const) {
        for (const who of [OUTSIDER, INVITED, MEMBER, BANNED]) {
          expect(plan(PRIVATE, ADMIN, { type, members: [REQUESTED, who] })).toEqual(
            refused('conflict', `${who} has not asked to join.`),
          )
        }
      }
    })
  })

  describe('kick', () => {
    test('behavior: an Admin kicks lower ranks: Sub Admins, custom roles, Members', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'kick', members: [SUB_ADMIN, MOD, MEMBER, MUTED] })).toEqual(
        allowed(
          { kind: 'member', address: SUB_ADMIN, set: LEFT },
          { kind: 'member', address: MOD, set: LEFT },
          { kind: 'member', address: MEMBER, set: LEFT },
          { kind: 'member', address: MUTED, set: LEFT },
        ),
      )
    })

    test('behavior: an Admin cannot act on an Owner, nor on another Admin', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'kick', members: [OWNER] })).toEqual(
        refused('forbidden', `Your role cannot kick ${OWNER}.`, 'kick'),
      )
      expect(plan(PUBLIC, ADMIN, { type: 'kick', members: [MEMBER, ADMIN_2] })).toEqual(
        refused('forbidden', `Your role cannot kick ${ADMIN_2}.`, 'kick'),
      )
    })

    test('behavior: an Owner acts on anyone, another Owner included', () => {
      expect(plan(PUBLIC, OWNER, { type: 'kick', members: [OWNER_2, ADMIN] })).toEqual(
        allowed({ kind: 'member', address: OWNER_2, set: LEFT }, { kind: 'member', address: ADMIN, set: LEFT }),
      )
    })

    test('behavior: a custom role with kick ranks above Members only', () => {
      expect(plan(PUBLIC, MOD, { type: 'kick', members: [MEMBER] })).toEqual(
        allowed({ kind: 'member', address: MEMBER, set: LEFT }),
      )
      expect(plan(PUBLIC, MOD, { type: 'kick', members: [HELPER] })).toEqual(
        refused('forbidden', `Your role cannot kick ${HELPER}.`, 'kick'),
      )
      expect(plan(PUBLIC, MOD, { type: 'kick', members: [MOD_2] })).toEqual(
        refused('forbidden', `Your role cannot kick ${MOD_2}.`, 'kick'),
      )
      expect(plan(PUBLIC, MOD, { type: 'kick', members: [SUB_ADMIN] })).toEqual(
        refused('forbidden', `Your role cannot kick ${SUB_ADMIN}.`, 'kick'),
      )
    })

    test('behavior: needs the kick permission', () => {
      for (const who of [SUB_ADMIN, MEMBER, HELPER, BANNER]) {
        expect(plan(PUBLIC, who, { type: 'kick', members: [MEMBER_2] })).toEqual(needs('kick'))
        expect(plan(PUBLIC, who, { type: 'kick', all: true })).toEqual(needs('kick'))
      }
    })

    test('behavior: only members are kicked, never oneself, and someone is named', () => {
      for (const who of [OUTSIDER, INVITED, REQUESTED, BANNED]) {
        expect(plan(PUBLIC, ADMIN, { type: 'kick', members: [who] })).toEqual(refused('conflict', `${who} is not a member.`))
      }
      expect(plan(PUBLIC, ADMIN, { type: 'kick', members: [ADMIN] })).toEqual(
        refused('invalid_request', 'You cannot do this to yourself.'),
      )
      expect(plan(PUBLIC, ADMIN, { type: 'kick', members: [] })).toEqual(refused('invalid_request', 'Name the members, or all.'))
      expect(plan(PUBLIC, ADMIN, { type: 'kick' })).toEqual(refused('invalid_request', 'Name the members, or all.'))
    })

    test('behavior: `all` reaches every role without the permission that the actor outranks, never the actor', () => {
      const everyone = ['sub-admin', 'member', 'helper', 'roler', 'banner', 'quiet']
      expect(plan(PUBLIC, ADMIN, { type: 'kick', all: true })).toEqual(
        allowed({ kind: 'members', roles: everyone, except: ADMIN, set: LEFT }),
      )
      // Admins hold kick themselves: an Owner's `all` leaves them (and Owners) in.
      expect(plan(PUBLIC, OWNER, { type: 'kick', all: true })).toEqual(
        allowed({ kind: 'members', roles: everyone, except: OWNER, set: LEFT }),
      )
      expect(plan(PUBLIC, MOD, { type: 'kick', all: true })).toEqual(
        allowed({ kind: 'members', roles: ['member'], except: MOD, set: LEFT }),
      )
      // `all` wins over named members.
      expect(plan(PUBLIC, MOD, { type: 'kick', all: true, members: [OWNER] })).toEqual(
        allowed({ kind: 'members', roles: ['member'], except: MOD, set: LEFT }),
      )
    })
  })

  describe('mute', () => {
    test('behavior: until a time, or for good without one', () => {
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MEMBER], until: LATER })).toEqual(
        allowed({ kind: 'member', address: MEMBER, set: { mutedUntil: LATER } }),
      )
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MEMBER, HELPER], until: null })).toEqual(
        allowed(
          { kind: 'member', address: MEMBER, set: { mutedUntil: FOREVER } },
          { kind: 'member', address: HELPER, set: { mutedUntil: FOREVER } },
        ),
      )
      expect(FOREVER).toBe('9999-12-31T23:59:59.999Z')
      // A muted member may be muted again (a new time replaces the old one).
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MUTED], until: null })).toEqual(
        allowed({ kind: 'member', address: MUTED, set: { mutedUntil: FOREVER } }),
      )
    })

    test('behavior: an `until` must be after the time of the event', () => {
      const past = refused('invalid_request', 'A mute must end in the future.')
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MEMBER], until: EARLIER })).toEqual(past)
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MEMBER], until: AT })).toEqual(past)
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', all: true, until: AT })).toEqual(past)
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MEMBER], until: LATER }, LATER)).toEqual(past)
      // One millisecond after is in the future.
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MEMBER], until: '2026-06-01T12:00:00.001Z' })).toEqual(
        allowed({ kind: 'member', address: MEMBER, set: { mutedUntil: '2026-06-01T12:00:00.001Z' } }),
      )
      // The time is checked before the permission: whoever sends it is told.
      expect(plan(PUBLIC, MEMBER, { type: 'mute', members: [MEMBER_2], until: EARLIER })).toEqual(past)
    })

    test('behavior: rank: a Sub Admin mutes custom roles and Members, not another Sub Admin nor higher', () => {
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [MOD], until: null })).toEqual(
        allowed({ kind: 'member', address: MOD, set: { mutedUntil: FOREVER } }),
      )
      for (const who of [SUB_ADMIN_2, ADMIN, OWNER]) {
        expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [who], until: null })).toEqual(
          refused('forbidden', `Your role cannot mute ${who}.`, 'mute'),
        )
      }
      expect(plan(PUBLIC, MOD, { type: 'mute', members: [MOD_2], until: null })).toEqual(
        refused('forbidden', `Your role cannot mute ${MOD_2}.`, 'mute'),
      )
    })

    test('behavior: needs mute; only members are muted', () => {
      for (const who of [MEMBER, HELPER, ROLER, BANNER]) {
        expect(plan(PUBLIC, who, { type: 'mute', members: [MEMBER_2], until: null })).toEqual(needs('mute'))
      }
      for (const who of [OUTSIDER, INVITED, LEFT_MUTED]) {
        expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [who], until: null })).toEqual(
          refused('conflict', `${who} is not a member.`),
        )
      }
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', members: [SUB_ADMIN], until: null })).toEqual(
        refused('invalid_request', 'You cannot do this to yourself.'),
      )
    })

    test('behavior: `all` mutes the roles without mute that the actor outranks', () => {
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'mute', all: true, until: LATER })).toEqual(
        allowed({
          kind: 'members',
          roles: ['member', 'helper', 'roler', 'banner', 'quiet'],
          except: SUB_ADMIN,
          set: { mutedUntil: LATER },
        }),
      )
      expect(plan(PUBLIC, MOD, { type: 'mute', all: true, until: null })).toEqual(
        allowed({ kind: 'members', roles: ['member'], except: MOD, set: { mutedUntil: FOREVER } }),
      )
    })
  })

  describe('unmute', () => {
    test('behavior: lifts a mute, also of someone who left while muted', () => {
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'unmute', members: [MUTED, MUTED_FOREVER] })).toEqual(
        allowed(
          { kind: 'member', address: MUTED, set: { mutedUntil: null } },
          { kind: 'member', address: MUTED_FOREVER, set: { mutedUntil: null } },
        ),
      )
      expect(plan(PUBLIC, MOD, { type: 'unmute', members: [LEFT_MUTED] })).toEqual(
        allowed({ kind: 'member', address: LEFT_MUTED, set: { mutedUntil: null } }),
      )
    })

    test('behavior: who is not muted (any more) is not unmuted', () => {
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'unmute', members: [MEMBER] })).toEqual(
        refused('conflict', `${MEMBER} is not muted.`),
      )
      // At `until` the mute is over.
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'unmute', members: [MUTED] }, LATER)).toEqual(
        refused('conflict', `${MUTED} is not muted.`),
      )
    })

    test('behavior: needs unmute, and rank over a member', () => {
      expect(plan(PUBLIC, MEMBER, { type: 'unmute', members: [MUTED] })).toEqual(needs('unmute'))
      const mutedAdmin = roomView({ members: { ...MEMBERS, [ADMIN_2]: member('admin', { mutedUntil: LATER }) } })
      expect(plan(mutedAdmin, SUB_ADMIN, { type: 'unmute', members: [ADMIN_2] })).toEqual(
        refused('forbidden', `Your role cannot unmute ${ADMIN_2}.`, 'unmute'),
      )
    })

    test('behavior: `all` unmutes the roles without unmute that the actor outranks', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'unmute', all: true })).toEqual(
        allowed({
          kind: 'members',
          roles: ['member', 'helper', 'roler', 'banner', 'quiet'],
          except: ADMIN,
          set: { mutedUntil: null },
        }),
      )
    })
  })

  describe('ban', () => {
    const BANNED_NOW = { ...LEFT, banned: true, bannedUntil: null }

    test('behavior: for good, or until a time; a ban also removes from the room', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'ban', members: [MEMBER], until: null, removeMessages: false })).toEqual(
        allowed({ kind: 'member', address: MEMBER, set: BANNED_NOW }),
      )
      expect(plan(PUBLIC, ADMIN, { type: 'ban', members: [MEMBER], until: LATER, removeMessages: false })).toEqual(
        allowed({ kind: 'member', address: MEMBER, set: { ...LEFT, banned: true, bannedUntil: LATER } }),
      )
    })

    test('behavior: outsiders, invitees and requesters may be banned before they join; bans may be renewed', () => {
      expect(
        plan(PRIVATE, ADMIN, {
          type: 'ban',
          members: [OUTSIDER, INVITED, REQUESTED, BANNED],
          until: null,
          removeMessages: false,
        }),
      ).toEqual(
        allowed(
          { kind: 'member', address: OUTSIDER, set: BANNED_NOW },
          { kind: 'member', address: INVITED, set: BANNED_NOW },
          { kind: 'member', address: REQUESTED, set: BANNED_NOW },
          { kind: 'member', address: BANNED, set: BANNED_NOW },
        ),
      )
    })

    test('behavior: rank', () => {
      for (const who of [OWNER, ADMIN_2]) {
        expect(plan(PUBLIC, ADMIN, { type: 'ban', members: [who], until: null, removeMessages: false })).toEqual(
          refused('forbidden', `Your role cannot ban ${who}.`, 'ban'),
        )
      }
      expect(plan(PUBLIC, OWNER, { type: 'ban', members: [OWNER_2], until: null, removeMessages: false })).toEqual(
        allowed({ kind: 'member', address: OWNER_2, set: BANNED_NOW }),
      )
      expect(plan(PUBLIC, BANNER, { type: 'ban', members: [QUIET], until: null, removeMessages: false })).toEqual(
        refused('forbidden', `Your role cannot ban ${QUIET}.`, 'ban'),
      )
      expect(plan(PUBLIC, BANNER, { type: 'ban', members: [MEMBER], until: null, removeMessages: false })).toEqual(
        allowed({ kind: 'member', address: MEMBER, set: BANNED_NOW }),
      )
    })

    test('behavior: needs ban, and recall_others to remove the messages too', () => {
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'ban', members: [MEMBER], until: null, removeMessages: false })).toEqual(
        needs('ban'),
      )
      expect(plan(PUBLIC, BANNER, { type: 'ban', members: [MEMBER], until: null, removeMessages: true })).toEqual(
        needs('recall_others'),
      )
      // Ban is checked first: who holds neither is told about ban.
      for (const who of [SUB_ADMIN, MEMBER, MOD]) {
        expect(plan(PUBLIC, who, { type: 'ban', members: [MEMBER_2], until: null, removeMessages: true })).toEqual(needs('ban'))
      }
      // Rank too: a subject the actor may not ban is named before the missing recall_others.
      expect(plan(PUBLIC, BANNER, { type: 'ban', members: [QUIET], until: null, removeMessages: true })).toEqual(
        refused('forbidden', `Your role cannot ban ${QUIET}.`, 'ban'),
      )
    })

    test('behavior: an `until` must be after the time of the event', () => {
      const past = refused('invalid_request', 'A ban must end in the future.')
      expect(plan(PUBLIC, ADMIN, { type: 'ban', members: [MEMBER], until: EARLIER, removeMessages: false })).toEqual(past)
      expect(plan(PUBLIC, ADMIN, { type: 'ban', members: [MEMBER], until: AT, removeMessages: true })).toEqual(past)
      expect(plan(PUBLIC, ADMIN, { type: 'ban', all: true, until: AT, removeMessages: false })).toEqual(past)
      expect(plan(PUBLIC, ADMIN, { type: 'ban', members: [MEMBER], until: LATER, removeMessages: false }, LATER)).toEqual(past)
      expect(
        plan(PUBLIC, ADMIN, { type: 'ban', members: [MEMBER], until: '2026-06-01T12:00:00.001Z', removeMessages: false }),
      ).toEqual(
        allowed({ kind: 'member', address: MEMBER, set: { ...LEFT, banned: true, bannedUntil: '2026-06-01T12:00:00.001Z' } }),
      )
      expect(plan(PUBLIC, MEMBER, { type: 'ban', members: [MEMBER_2], until: EARLIER, removeMessages: false })).toEqual(past)
    })

    test('behavior: removeMessages recalls every message of each named member', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'ban', members: [MEMBER, OUTSIDER], until: null, removeMessages: true })).toEqual(
        allowed(
          { kind: 'member', address: MEMBER, set: BANNED_NOW },
          { kind: 'member', address: OUTSIDER, set: BANNED_NOW },
          { kind: 'recall_all', sender: MEMBER },
          { kind: 'recall_all', sender: OUTSIDER },
        ),
      )
    })

    test('behavior: `all` bans the roles without ban that the actor outranks', () => {
      const roles = ['sub-admin', 'member', 'mod', 'helper', 'roler', 'quiet']
      expect(plan(PUBLIC, ADMIN, { type: 'ban', all: true, until: LATER, removeMessages: false })).toEqual(
        allowed({ kind: 'members', roles, except: ADMIN, set: { ...LEFT, banned: true, bannedUntil: LATER } }),
      )
      expect(plan(PUBLIC, OWNER, { type: 'ban', all: true, until: null, removeMessages: false })).toEqual(
        allowed({ kind: 'members', roles, except: OWNER, set: BANNED_NOW }),
      )
    })

    test('behavior: removeMessages takes named members: a ban of all cannot say whose', () => {
      const whose = refused('invalid_request', 'Removing messages takes named members (a ban of all cannot say whose).')
      expect(plan(PUBLIC, OWNER, { type: 'ban', all: true, until: null, removeMessages: true })).toEqual(whose)
      expect(plan(PUBLIC, ADMIN, { type: 'ban', all: true, until: LATER, removeMessages: true })).toEqual(whose)
      // `all` wins over named members here too.
      expect(plan(PUBLIC, OWNER, { type: 'ban', all: true, members: [MEMBER], until: null, removeMessages: true })).toEqual(whose)
    })

    test('behavior: never oneself', () => {
      expect(plan(PUBLIC, OWNER, { type: 'ban', members: [OWNER], until: null, removeMessages: false })).toEqual(
        refused('invalid_request', 'You cannot do this to yourself.'),
      )
    })
  })

  describe('unban', () => {
    test('behavior: lifts a ban for good or one with a time', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'unban', members: [BANNED, BANNED_UNTIL] })).toEqual(
        allowed(
          { kind: 'member', address: BANNED, set: { banned: false, bannedUntil: null } },
          { kind: 'member', address: BANNED_UNTIL, set: { banned: false, bannedUntil: null } },
        ),
      )
    })

    test('behavior: who is not banned (any more) is not unbanned', () => {
      for (const who of [MEMBER, OUTSIDER, LAPSED]) {
        expect(plan(PUBLIC, ADMIN, { type: 'unban', members: [BANNED, who] })).toEqual(
          refused('conflict', `${who} is not banned.`),
        )
      }
      expect(plan(PUBLIC, ADMIN, { type: 'unban', members: [BANNED_UNTIL] }, LATER)).toEqual(
        refused('conflict', `${BANNED_UNTIL} is not banned.`),
      )
    })

    test('behavior: needs unban', () => {
      for (const who of [SUB_ADMIN, BANNER, MEMBER]) {
        expect(plan(PUBLIC, who, { type: 'unban', members: [BANNED] })).toEqual(needs('unban'))
      }
    })
  })

  describe('set_role', () => {
    const role = (who: string, to: string) => ({ kind: 'member', address: who, set: { role: to } })

    test('behavior: an Owner sets any role on anyone, Owners included', () => {
      expect(plan(PUBLIC, OWNER, { type: 'set_role', members: [MEMBER, ADMIN], role: 'owner' })).toEqual(
        allowed(role(MEMBER, 'owner'), role(ADMIN, 'owner')),
      )
      expect(plan(PUBLIC, OWNER, { type: 'set_role', members: [OWNER_2, ADMIN], role: 'member' })).toEqual(
        allowed(role(OWNER_2, 'member'), role(ADMIN, 'member')),
      )
      expect(plan(PUBLIC, OWNER, { type: 'set_role', members: [MEMBER], role: 'mod' })).toEqual(allowed(role(MEMBER, 'mod')))
    })

    test('behavior: an Admin grants up to Admin, on lower ranks only', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'set_role', members: [MEMBER], role: 'admin' })).toEqual(allowed(role(MEMBER, 'admin')))
      expect(plan(PUBLIC, ADMIN, { type: 'set_role', members: [SUB_ADMIN, MOD], role: 'member' })).toEqual(
        allowed(role(SUB_ADMIN, 'member'), role(MOD, 'member')),
      )
      // Owner holds delete_room (the first permission Admin lacks).
      expect(plan(PUBLIC, ADMIN, { type: 'set_role', members: [MEMBER], role: 'owner' })).toEqual(cannotGrant('delete_room'))
      expect(plan(PUBLIC, ADMIN, { type: 'set_role', members: [ADMIN_2], role: 'member' })).toEqual(
        refused('forbidden', `Your role cannot change the role of ${ADMIN_2}.`, 'set_role'),
      )
      expect(plan(PUBLIC, ADMIN, { type: 'set_role', members: [OWNER], role: 'member' })).toEqual(
        refused('forbidden', `Your role cannot change the role of ${OWNER}.`, 'set_role'),
      )
    })

    test('behavior: nobody grants a permission they do not hold', () => {
      // roler: set_role, send, react, invite.
      expect(plan(PUBLIC, ROLER, { type: 'set_role', members: [MEMBER], role: 'roler' })).toEqual(allowed(role(MEMBER, 'roler')))
      expect(plan(PUBLIC, ROLER, { type: 'set_role', members: [MEMBER], role: 'helper' })).toEqual(
        allowed(role(MEMBER, 'helper')),
      )
      expect(plan(PUBLIC, ROLER, { type: 'set_role', members: [MEMBER], role: 'sub-admin' })).toEqual(cannotGrant('send_links'))
      expect(plan(PUBLIC, ROLER, { type: 'set_role', members: [MEMBER], role: 'mod' })).toEqual(cannotGrant('kick'))
      expect(plan(PUBLIC, ROLER, { type: 'set_role', members: [MEMBER], role: 'banner' })).toEqual(cannotGrant('ban'))
      // Rank still applies once the grant is in reach.
      expect(plan(PUBLIC, ROLER, { type: 'set_role', members: [HELPER], role: 'member' })).toEqual(
        refused('forbidden', `Your role cannot change the role of ${HELPER}.`, 'set_role'),
      )
    })

    test('behavior: nobody but an Owner appoints a role ranked above their own', () => {
      // Custom roles (rank 15) holding set_role and every permission of the role above them: only rank stops them.
      // deputy: what a Sub Admin holds, and set_role.
      const deputy: Permission[] = [
        'set_role',
        'send',
        'send_links',
        'react',
        'invite',
        'accept_join_request',
        'mute',
        'unmute',
        'pin',
      ]
      // vice: what an Admin holds.
      const vice: Permission[] = [
        'send',
        'send_links',
        'react',
        'invite',
        'accept_join_request',
        'kick',
        'ban',
        'unban',
        'mute',
        'unmute',
        'recall_others',
        'pin',
        'set_info',
        'set_role',
        'e2ee_on',
      ]
      const ranked = roomView({
        members: { ...MEMBERS, [MOD]: member('deputy'), [MOD_2]: member('vice') },
        customRoles: { ...CUSTOM_ROLES, deputy, vice },
      })
      expect(plan(ranked, MOD, { type: 'set_role', members: [MEMBER], role: 'sub-admin' })).toEqual(
        refused('forbidden', 'Your role cannot appoint members as "sub-admin", a role above your own.', 'set_role'),
      )
      // @NOTE the message takes "a" before every role name ("a admin", "a owner").
      expect(plan(ranked, MOD_2, { type: 'set_role', members: [MEMBER], role: 'admin' })).toEqual(
        refused('forbidden', 'Your role cannot appoint members as "admin", a role above your own.', 'set_role'),
      )
      expect(plan(ranked, MOD_2, { type: 'set_role', members: [MEMBER], role: 'sub-admin' })).toEqual(
        refused('forbidden', 'Your role cannot appoint members as "sub-admin", a role above your own.', 'set_role'),
      )
      // Their own rank, and below, they appoint.
      expect(plan(ranked, MOD, { type: 'set_role', members: [MEMBER], role: 'deputy' })).toEqual(allowed(role(MEMBER, 'deputy')))
      expect(plan(ranked, MOD_2, { type: 'set_role', members: [MEMBER], role: 'helper' })).toEqual(
        allowed(role(MEMBER, 'helper')),
      )
      expect(plan(ranked, MOD, { type: 'set_role', members: [MEMBER_2], role: 'member' })).toEqual(
        allowed(role(MEMBER_2, 'member')),
      )
      // An Admin still appoints Admins (equal rank); an Owner appoints Owners.
      expect(plan(ranked, ADMIN, { type: 'set_role', members: [MEMBER], role: 'admin' })).toEqual(allowed(role(MEMBER, 'admin')))
      expect(plan(ranked, OWNER, { type: 'set_role', members: [MEMBER], role: 'owner' })).toEqual(allowed(role(MEMBER, 'owner')))
    })

    test('behavior: needs set_role', () => {
      for (const who of [SUB_ADMIN, MOD, MEMBER]) {
        expect(plan(PUBLIC, who, { type: 'set_role', members: [MEMBER_2], role: 'member' })).toEqual(needs('set_role'))
      }
    })

    test('behavior: the role exists, the subjects are members, and never oneself', () => {
      for (const name of ['moderator', 'constructor', 'Admin']) {
        expect(plan(PUBLIC, OWNER, { type: 'set_role', members: [MEMBER], role: name })).toEqual(
          refused('invalid_request', `This room has no role "${name}".`),
        )
      }
      for (const who of [OUTSIDER, INVITED, BANNED]) {
        expect(plan(PUBLIC, OWNER, { type: 'set_role', members: [who], role: 'admin' })).toEqual(
          refused('conflict', `${who} is not a member.`),
        )
      }
      expect(plan(PUBLIC, OWNER, { type: 'set_role', members: [MEMBER, OWNER], role: 'member' })).toEqual(
        refused('invalid_request', 'You cannot change your own role.'),
      )
    })
  })

  describe('define_role', () => {
    test('behavior: defines or redefines a custom role', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'define_role', role: 'greeter', permissions: ['send', 'invite'] })).toEqual(
        allowed({ kind: 'role', role: 'greeter', permissions: ['send', 'invite'] }),
      )
      expect(plan(PUBLIC, ADMIN, { type: 'define_role', role: 'mod', permissions: [] })).toEqual(
        allowed({ kind: 'role', role: 'mod', permissions: [] }),
      )
      // A name like an Object.prototype member is a name like any other.
      expect(plan(PUBLIC, OWNER, { type: 'define_role', role: 'constructor', permissions: ['send'] })).toEqual(
        allowed({ kind: 'role', role: 'constructor', permissions: ['send'] }),
      )
    })

    test('behavior: nobody grants a permission they do not hold, nor takes one they do not hold away', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'define_role', role: 'boss', permissions: ['kick', 'delete_room'] })).toEqual(
        cannotGrant('delete_room'),
      )
      expect(plan(PUBLIC, ADMIN, { type: 'define_role', role: 'boss', permissions: ['e2ee_off'] })).toEqual(
        cannotGrant('e2ee_off'),
      )
      expect(plan(PUBLIC, OWNER, { type: 'define_role', role: 'boss', permissions: ['delete_room', 'e2ee_off'] })).toEqual(
        allowed({ kind: 'role', role: 'boss', permissions: ['delete_room', 'e2ee_off'] }),
      )
      expect(plan(PUBLIC, ROLER, { type: 'define_role', role: 'helper', permissions: ['send'] })).toEqual(
        allowed({ kind: 'role', role: 'helper', permissions: ['send'] }),
      )
      // mod holds kick, which roler does not: roler may not redefine it, even to less.
      expect(plan(PUBLIC, ROLER, { type: 'define_role', role: 'mod', permissions: ['send'] })).toEqual(cannotGrant('kick'))
      expect(plan(PUBLIC, ROLER, { type: 'define_role', role: 'linker', permissions: ['send', 'send_links'] })).toEqual(
        cannotGrant('send_links'),
      )
    })

    test('behavior: built-in roles are fixed; needs set_role', () => {
      for (const name of ['owner', 'admin', 'sub-admin', 'member']) {
        expect(plan(PUBLIC, OWNER, { type: 'define_role', role: name, permissions: ['send'] })).toEqual(
          refused('invalid_request', `"${name}" is a built-in role.`),
        )
      }
      expect(plan(PUBLIC, SUB_ADMIN, { type: 'define_role', role: 'greeter', permissions: [] })).toEqual(needs('set_role'))
    })
  })

  describe('delete_role', () => {
    test('behavior: its members become Members, then the role is gone', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'delete_role', role: 'mod' })).toEqual(
        allowed(
          { kind: 'members', roles: ['mod'], except: '', set: { role: 'member' } },
          { kind: 'role', role: 'mod', permissions: null },
        ),
      )
    })

    test('behavior: nobody deletes a role holding what they do not hold', () => {
      expect(plan(PUBLIC, ROLER, { type: 'delete_role', role: 'mod' })).toEqual(cannotGrant('kick'))
      expect(plan(PUBLIC, ROLER, { type: 'delete_role', role: 'helper' })).toEqual(
        allowed(
          { kind: 'members', roles: ['helper'], except: '', set: { role: 'member' } },
          { kind: 'role', role: 'helper', permissions: null },
        ),
      )
    })

    test('behavior: only a custom role the room defines; needs set_role', () => {
      for (const name of ['greeter', 'constructor']) {
        expect(plan(PUBLIC, OWNER, { type: 'delete_role', role: name })).toEqual(
          refused('invalid_request', `This room has no role "${name}".`),
        )
      }
      expect(plan(PUBLIC, OWNER, { type: 'delete_role', role: 'admin' })).toEqual(
        refused('invalid_request', '"admin" is a built-in role.'),
      )
      expect(plan(PUBLIC, MOD, { type: 'delete_role', role: 'helper' })).toEqual(needs('set_role'))
    })
  })

  describe('update', () => {
    test('behavior: changes the settings named, and only those', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'update', name: 'New name' })).toEqual(
        allowed({ kind: 'room', set: { name: 'New name' } }),
      )
      expect(plan(PUBLIC, OWNER, { type: 'update', name: 'N', description: 'D', avatar: null, announce: true })).toEqual(
        allowed({ kind: 'room', set: { name: 'N', description: 'D', avatar: null, announce: true } }),
      )
      expect(plan(ANNOUNCE, ADMIN, { type: 'update', announce: false, avatar: KEY })).toEqual(
        allowed({ kind: 'room', set: { announce: false, avatar: KEY } }),
      )
    })

    test('behavior: an update changes something; needs set_info', () => {
      expect(plan(PUBLIC, ADMIN, { type: 'update' })).toEqual(
        refused('invalid_request', 'An update changes at least one setting.'),
      )
      expect(plan(PUBLIC, ADMIN, { type: 'update', name: undefined } as RoomEventBody)).toEqual(
        refused('invalid_request', 'An update changes at least one setting.'),
      )
      for (const who of [SUB_ADMIN, MOD, MEMBER]) {
        expect(plan(PUBLIC, who, { type: 'update', name: 'Mine' })).toEqual(needs('set_info'))
      }
    })
  })

  describe('e2ee_on and e2ee_off', () => {
    const ENCRYPTED = roomView({ type: 'private', e2ee: true })
    test('behavior: Owners and Admins turn it on (e2ee_on), Owners only off (e2ee_off)', () => {
      for (const who of [OWNER, ADMIN]) {
        expect(plan(PRIVATE, who, { type: 'e2ee_on', plain: true })).toEqual(
          allowed({ kind: 'room', set: { e2ee: true, plain: true } }),
        )
      }
      for (const who of [SUB_ADMIN, MOD, MEMBER])
        expect(plan(PRIVATE, who, { type: 'e2ee_on', plain: false })).toEqual(needs('e2ee_on'))
      expect(plan(ENCRYPTED, OWNER, { type: 'e2ee_off' })).toEqual(allowed({ kind: 'room', set: { e2ee: false, plain: false } }))
      for (const who of [ADMIN, SUB_ADMIN, MEMBER]) expect(plan(ENCRYPTED, who, { type: 'e2ee_off' })).toEqual(needs('e2ee_off'))
    })

    test('behavior: private rooms only; no change twice', () => {
      const only = refused('invalid_request', 'Only private rooms are end-to-end encrypted.')
      expect(plan(PUBLIC, OWNER, { type: 'e2ee_on', plain: false })).toEqual(only)
      expect(plan(ENCRYPTED, OWNER, { type: 'e2ee_on', plain: false })).toEqual(
        refused('conflict', 'End-to-end encryption is already on in this room.'),
      )
      expect(plan(PRIVATE, OWNER, { type: 'e2ee_off' })).toEqual(
        refused('conflict', 'End-to-end encryption is already off in this room.'),
      )
    })
  })

  describe('delete', () => {
    test('behavior: Owners only (delete_room)', () => {
      expect(plan(PUBLIC, OWNER_2, { type: 'delete' })).toEqual(allowed({ kind: 'room', set: { deleted: true } }))
      for (const who of [ADMIN, SUB_ADMIN, MOD, MEMBER]) {
        expect(plan(PUBLIC, who, { type: 'delete' })).toEqual(needs('delete_room'))
      }
    })
  })
})

describe('planRoomAction', () => {
  const MESSAGE_BY = (sender: string, more: Partial<RoomActionTarget> = {}): RoomActionTarget => ({
    sender,
    type: 'message',
    recalled: false,
    ...more,
  })
  const act = (
    view: RoomStateView,
    sender: string,
    type: RoomActionType,
    { target, text, at = AT }: { target?: RoomActionTarget; text?: string; at?: string } = {},
  ) => planRoomAction(view, { sender, type, at, target, text })
  const OK = { ok: true }
  const ACTIONS = ['edit', 'react', 'unreact', 'recall', 'pin', 'unpin'] as const

  test('default', () => {
    expect(act(PUBLIC, MEMBER, 'message', { text: 'gm' })).toEqual(OK)
  })

  test('security: with E2EE on, plaintext only where the room allows the choice; with it off, no encrypted message', () => {
    const on = roomView({ type: 'private', e2ee: true })
    const choice = roomView({ type: 'private', e2ee: true, plain: true })
    const off = roomView({ type: 'private' })
    const send = (view: RoomStateView, e2ee: boolean) => planRoomAction(view, { sender: MEMBER, type: 'message', at: AT, e2ee })
    expect(send(on, true)).toEqual(OK)
    expect(send(on, false)).toEqual(
      refused('e2ee_required', 'This room is end-to-end encrypted and takes no plaintext messages.'),
    )
    expect(send(choice, false)).toEqual(OK)
    expect(send(off, false)).toEqual(OK)
    expect(send(off, true)).toEqual(
      refused('e2ee_off', 'End-to-end encryption is off in this room: send the message as plaintext.'),
    )
  })

  test('behavior: only members post, in a room that exists', () => {
    for (const type of ['message', ...ACTIONS] as const) {
      const target = MESSAGE_BY(MEMBER)
      expect(act(DELETED, MEMBER, type, { target })).toEqual(refused('room_not_found', 'This room was deleted.'))
      for (const who of [OUTSIDER, INVITED, REQUESTED, LAPSED, LEFT_MUTED]) {
        expect(act(PUBLIC, who, type, { target })).toEqual(notMember)
      }
      for (const who of [BANNED, BANNED_UNTIL]) expect(act(PUBLIC, who, type, { target })).toEqual(youAreBanned)
    }
  })

  test('behavior: a plain message needs send; a link in it needs send_links', () => {
    const link = 'read https://example.org first'
    expect(act(PUBLIC, MEMBER, 'message', { text: link })).toEqual(needs('send_links'))
    expect(act(PUBLIC, MEMBER, 'message', { text: 'see www.example' })).toEqual(needs('send_links'))
    expect(act(PUBLIC, MEMBER, 'message', { text: 'dmtp.eth is ours' })).toEqual(needs('send_links'))
    expect(act(PUBLIC, MEMBER, 'message', { text: 'no link here. none.' })).toEqual(OK)
    // Without the text (an encrypted message) the link rule cannot apply.
    expect(act(PUBLIC, MEMBER, 'message')).toEqual(OK)
    for (const who of [SUB_ADMIN, ADMIN, OWNER]) expect(act(PUBLIC, who, 'message', { text: link })).toEqual(OK)
    expect(act(PUBLIC, HELPER, 'message', { text: link })).toEqual(needs('send_links'))
    const silent = roomView({ members: { ...MEMBERS, [MOD]: member('nobody') } })
    expect(act(silent, MOD, 'message', { text: 'gm' })).toEqual(needs('send'))
  })

  test('behavior: an announcement-only room: Members react but do not post', () => {
    expect(act(ANNOUNCE, MEMBER, 'message', { text: 'gm' })).toEqual(needs('send'))
    expect(act(ANNOUNCE, MEMBER, 'edit', { target: MESSAGE_BY(MEMBER), text: 'gm' })).toEqual(needs('send'))
    expect(act(ANNOUNCE, MEMBER, 'react', { target: MESSAGE_BY(ADMIN) })).toEqual(OK)
    expect(act(ANNOUNCE, MEMBER, 'recall', { target: MESSAGE_BY(MEMBER) })).toEqual(OK)
    // Every other role keeps its permissions, custom roles too.
    for (const who of [OWNER, ADMIN, SUB_ADMIN, MOD, HELPER]) expect(act(ANNOUNCE, who, 'message', { text: 'gm' })).toEqual(OK)
    expect(act(ANNOUNCE, SUB_ADMIN, 'message', { text: 'https://example.org' })).toEqual(OK)
  })

  test('behavior: an action names an existing message that is not recalled', () => {
    for (const type of ACTIONS) {
      expect(act(PUBLIC, ADMIN, type)).toEqual(
        refused('invalid_request', 'The message this refers to does not exist in this room.'),
      )
      expect(act(PUBLIC, ADMIN, type, { target: MESSAGE_BY(ADMIN, { type: 'react' }) })).toEqual(
        refused('invalid_request', 'The message this refers to does not exist in this room.'),
      )
      expect(act(PUBLIC, ADMIN, type, { target: MESSAGE_BY(ADMIN, { recalled: true }) })).toEqual(
        refused('conflict', 'That message was recalled.'),
      )
    }
  })

  test('behavior: only its author edits a message', () => {
    expect(act(PUBLIC, MEMBER, 'edit', { target: MESSAGE_BY(MEMBER), text: 'fixed' })).toEqual(OK)
    expect(act(PUBLIC, OWNER, 'edit', { target: MESSAGE_BY(MEMBER), text: 'fixed' })).toEqual(
      refused('forbidden', 'Only its author can edit a message.'),
    )
    expect(act(PUBLIC, MEMBER, 'edit', { target: MESSAGE_BY(MEMBER), text: 'now https://example.org' })).toEqual(
      needs('send_links'),
    )
  })

  test('behavior: react and unreact need react', () => {
    for (const type of ['react', 'unreact'] as const) {
      expect(act(PUBLIC, MEMBER, type, { target: MESSAGE_BY(ADMIN) })).toEqual(OK)
      expect(act(PUBLIC, QUIET, type, { target: MESSAGE_BY(ADMIN) })).toEqual(needs('react'))
    }
  })

  test('behavior: pin and unpin need pin', () => {
    for (const type of ['pin', 'unpin'] as const) {
      expect(act(PUBLIC, SUB_ADMIN, type, { target: MESSAGE_BY(MEMBER) })).toEqual(OK)
      for (const who of [MEMBER, MOD]) expect(act(PUBLIC, who, type, { target: MESSAGE_BY(MEMBER) })).toEqual(needs('pin'))
    }
  })

  test('behavior: anyone recalls their own message; another one needs recall_others', () => {
    expect(act(PUBLIC, MEMBER, 'recall', { target: MESSAGE_BY(MEMBER) })).toEqual(OK)
    for (const who of [ADMIN, OWNER]) expect(act(PUBLIC, who, 'recall', { target: MESSAGE_BY(MEMBER) })).toEqual(OK)
    for (const who of [SUB_ADMIN, MOD, MEMBER_2]) {
      expect(act(PUBLIC, who, 'recall', { target: MESSAGE_BY(MEMBER) })).toEqual(needs('recall_others'))
    }
  })

  test('behavior: a muted member does nothing but recall, until the mute lifts at its time', () => {
    const muted = refused('muted', `You are muted in this room until ${LATER}.`)
    expect(act(PUBLIC, MUTED, 'message', { text: 'gm' })).toEqual(muted)
    expect(act(PUBLIC, MUTED, 'message', { text: 'gm', at: EARLIER })).toEqual(muted)
    for (const type of ['edit', 'react', 'unreact'] as const) {
      expect(act(PUBLIC, MUTED, type, { target: MESSAGE_BY(MUTED) })).toEqual(muted)
    }
    expect(act(PUBLIC, MUTED, 'recall', { target: MESSAGE_BY(MUTED) })).toEqual(OK)
    expect(act(PUBLIC, MUTED, 'message', { text: 'gm', at: LATER })).toEqual(OK)
    expect(act(PUBLIC, MUTED_FOREVER, 'message', { text: 'gm', at: '9999-12-31T23:59:59.998Z' })).toEqual(
      refused('muted', `You are muted in this room until ${FOREVER}.`),
    )
    const mutedAdmin = roomView({ members: { ...MEMBERS, [ADMIN]: member('admin', { mutedUntil: LATER }) } })
    expect(act(mutedAdmin, ADMIN, 'pin', { target: MESSAGE_BY(MEMBER) })).toEqual(muted)
  })

  test('behavior: a 1:1 room has fixed permissions: send, send_links, react, pin', () => {
    expect(act(P2P, MEMBER, 'message', { text: 'https://example.org' })).toEqual(OK)
    expect(act(P2P, MEMBER, 'edit', { target: MESSAGE_BY(MEMBER), text: 'x' })).toEqual(OK)
    expect(act(P2P, MEMBER, 'react', { target: MESSAGE_BY(MEMBER_2) })).toEqual(OK)
    expect(act(P2P, MEMBER, 'pin', { target: MESSAGE_BY(MEMBER_2) })).toEqual(OK)
    expect(act(P2P, MEMBER, 'unpin', { target: MESSAGE_BY(MEMBER_2) })).toEqual(OK)
    expect(act(P2P, MEMBER, 'recall', { target: MESSAGE_BY(MEMBER) })).toEqual(OK)
    expect(act(P2P, MEMBER, 'recall', { target: MESSAGE_BY(MEMBER_2) })).toEqual(needs('recall_others'))
    expect(act(P2P, MEMBER, 'edit', { target: MESSAGE_BY(MEMBER_2), text: 'x' })).toEqual(
      refused('forbidden', 'Only its author can edit a message.'),
    )
    expect(act(P2P, OUTSIDER, 'message', { text: 'gm' })).toEqual(notMember)
    // Whatever role the pair's rows hold, their permissions are the pair's.
    const roled = roomView({ type: 'p2p', members: { [MEMBER]: member('owner') } })
    expect(act(roled, MEMBER, 'recall', { target: MESSAGE_BY(MEMBER_2) })).toEqual(needs('recall_others'))
  })
})

describe('isBanned', () => {
  test('default', () => {
    expect(isBanned(MEMBERS[BANNED] as MemberState, AT)).toBe(true)
    expect(isBanned(MEMBERS[BANNED] as MemberState, FOREVER)).toBe(true)
  })

  test('behavior: a ban with a time lifts at that time', () => {
    const until = MEMBERS[BANNED_UNTIL] as MemberState
    expect(isBanned(until, EARLIER)).toBe(true)
    expect(isBanned(until, '2026-06-01T12:59:59.999Z')).toBe(true)
    expect(isBanned(until, LATER)).toBe(false)
    expect(isBanned({ ...NO_MEMBER, bannedUntil: LATER }, AT)).toBe(false)
    expect(isBanned(NO_MEMBER, AT)).toBe(false)
  })
})

describe('isMuted', () => {
  test('default', () => {
    expect(isMuted(MEMBERS[MUTED] as MemberState, AT)).toBe(true)
  })

  test('behavior: a mute lifts at its time; FOREVER never does', () => {
    expect(isMuted(MEMBERS[MUTED] as MemberState, '2026-06-01T12:59:59.999Z')).toBe(true)
    expect(isMuted(MEMBERS[MUTED] as MemberState, LATER)).toBe(false)
    expect(isMuted(MEMBERS[MUTED_FOREVER] as MemberState, '9999-12-31T23:59:59.998Z')).toBe(true)
    expect(isMuted(NO_MEMBER, AT)).toBe(false)
  })
})

describe('pickSuccessor', () => {
  test('default', () => {
    expect(
      pickSuccessor([
        { address: MEMBER, role: 'member', joinedSeq: 2 },
        { address: ADMIN_2, role: 'admin', joinedSeq: 9 },
        { address: ADMIN, role: 'admin', joinedSeq: 5 },
        { address: SUB_ADMIN, role: 'sub-admin', joinedSeq: 3 },
      ]),
    ).toBe(ADMIN)
  })

  test('behavior: without an Admin, the longest-standing member of any role', () => {
    expect(
      pickSuccessor([
        { address: MEMBER, role: 'member', joinedSeq: 7 },
        { address: SUB_ADMIN, role: 'sub-admin', joinedSeq: 8 },
        { address: MOD, role: 'mod', joinedSeq: 4 },
      ]),
    ).toBe(MOD)
    expect(
      pickSuccessor([
        { address: SUB_ADMIN, role: 'sub-admin', joinedSeq: 8 },
        { address: MEMBER, role: 'member', joinedSeq: 3 },
      ]),
    ).toBe(MEMBER)
  })

  test('behavior: equal seniority (let in by one event): the lower-case address decides; the input is not reordered', () => {
    const members = [
      { address: ADMIN_2, role: 'admin', joinedSeq: 5 },
      { address: ADMIN, role: 'admin', joinedSeq: 5 },
    ]
    expect(pickSuccessor(members)).toBe(ADMIN)
    expect(pickSuccessor([...members].reverse())).toBe(ADMIN)
    expect(members.map((entry) => entry.address)).toEqual([ADMIN_2, ADMIN])
    // Compared in lower case: "a" before "B" (in code units "B" would come first).
    const lower = `0x${'0'.repeat(39)}a`
    const upper = `0x${'0'.repeat(39)}B`
    for (const order of [
      [upper, lower],
      [lower, upper],
    ]) {
      expect(pickSuccessor(order.map((address) => ({ address, role: 'member', joinedSeq: 3 })))).toBe(lower)
    }
    const reversed = [
      { address: MEMBER_2, role: 'member', joinedSeq: 9 },
      { address: MEMBER, role: 'member', joinedSeq: 1 },
    ]
    expect(pickSuccessor(reversed)).toBe(MEMBER)
    expect(reversed.map((entry) => entry.address)).toEqual([MEMBER_2, MEMBER])
  })

  test('behavior: nobody left, no successor', () => {
    expect(pickSuccessor([])).toBeUndefined()
  })
})
