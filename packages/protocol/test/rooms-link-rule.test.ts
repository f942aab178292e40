/**
 * Invite links on the membership log (`rooms/link-rule.ts`, protocol.md §6.4): a `join` or
 * `request` carrying a signed link, against a hand-written private room (every outcome written
 * out), the schema of such events, the link's signature as a replaying client checks it, and a
 * replay of a log where a stranger joins by link.
 */
import {
  type InviteLink,
  type LogEntry,
  type MemberState,
  NO_MEMBER,
  planRoomEvent,
  type RoomEvent,
  RoomLogState,
  type RoomStateView,
  roomEventSchema,
  signInviteLink,
  toBase64Url,
  toBlock,
  verifyInviteLinkSignature,
} from '@dmtp/protocol'
import { nodeCryptoBackend as backend } from '@dmtp/protocol/node'
import { describe, expect, test } from 'vitest'
import { makeRoomActor, makeRoomEvent } from './_util.js'

const address = (n: number) => `0x${String(n).padStart(40, '0')}`
const OWNER = address(1)
/** A Member (who holds `invite`, as Members do by default). */
const MEMBER = address(2)
/** A custom role `door` holding `invite`. */
const DOOR = address(3)
const OUTSIDER = address(4)
const BANNED = address(5)
const INVITED = address(6)
const REQUESTED = address(7)
/** Issued a link, then left. */
const GONE = address(8)
/** A custom role `quiet`: send, no `invite`. */
const QUIET = address(9)

const AT = '2026-06-01T12:00:00.000Z'
const LATER = '2026-06-01T13:00:00.000Z'
const ROOM = 'cm9vbS1saW5rLXRlc3QwMQ'
const OTHER_ROOM = 'b3RoZXItcm9vbS10ZXN0MQ'
const KEY = 'baguqeeraxyq3mxvdhdzwywgmpmyrrc3p4iwzfpgxnr6ty6ykzp6jcsnrdrfq'
const SIGNATURE = toBase64Url(new Uint8Array(64))

const member = (role: string): MemberState => ({ ...NO_MEMBER, status: 'member', role, joinedSeq: 2 })
const MEMBERS: Record<string, MemberState> = {
  [OWNER]: member('owner'),
  [MEMBER]: member('member'),
  [DOOR]: member('door'),
  [QUIET]: member('quiet'),
  [BANNED]: { ...NO_MEMBER, banned: true },
  [INVITED]: { ...NO_MEMBER, status: 'invited' },
  [REQUESTED]: { ...NO_MEMBER, status: 'requested' },
}

function roomView(type: 'private' | 'public' | 'limited' = 'private'): RoomStateView {
  return {
    room: {
      type,
      announce: false,
      customRoles: { door: ['send', 'invite'], quiet: ['send'] },
      name: 'Links',
      description: '',
      avatar: null,
      deleted: false,
      e2ee: false,
      plain: false,
      owners: 1,
      members: 3,
    },
    member: (who) => (Object.hasOwn(MEMBERS, who) ? (MEMBERS[who] as MemberState) : NO_MEMBER),
  }
}

/** A link as the rules see it (they never look at its signature). */
const link = (more: Partial<InviteLink> = {}): InviteLink => ({
  v: 1,
  id: 'bGluay1pZC0wMDAwMDAwMQ',
  room: ROOM,
  issuer: OWNER,
  issuerKey: KEY,
  logHead: KEY,
  at: '2026-06-01T11:00:00.000Z',
  expiresAt: null,
  maxUses: null,
  approval: false,
  signature: SIGNATURE,
  ...more,
})

const event = (actor: string, type: 'join' | 'request', withLink: InviteLink | undefined, at = AT): RoomEvent =>
  ({
    v: 1,
    id: 'ZXZlbnQtaWQtMDAwMDAwMQ',
    room: ROOM,
    type,
    actor,
    actorKey: KEY,
    at,
    basis: 0,
    ...(withLink ? { link: withLink } : {}),
    signature: SIGNATURE,
  }) as RoomEvent

const plan = (actor: string, type: 'join' | 'request', withLink?: InviteLink, { view = roomView(), at = AT } = {}) =>
  planRoomEvent(view, event(actor, type, withLink, at), at)

const JOINED = { status: 'member', role: 'member', banned: false, bannedUntil: null }
const joins = (who: string) => ({ ok: true, effects: [{ kind: 'member', address: who, set: JOINED, joined: true }] })
const requests = (who: string) => ({ ok: true, effects: [{ kind: 'member', address: who, set: { status: 'requested' } }] })
const refused = (code: string, message: string, permission?: string) => ({ ok: false, code, message, permission })

describe('inviteLinkProblem', () => {
  test('default: an outsider joins a private room with a link of a member holding invite', () => {
    expect(plan(OUTSIDER, 'join', link())).toEqual(joins(OUTSIDER))
    expect(plan(OUTSIDER, 'join', link({ issuer: DOOR }))).toEqual(joins(OUTSIDER))
    expect(plan(OUTSIDER, 'join', link({ issuer: MEMBER }))).toEqual(joins(OUTSIDER))
    // Without one, the room stays closed to them.
    expect(plan(OUTSIDER, 'join')).toEqual(refused('forbidden', 'This room is private: ask to join, or be invited.'))
  })

  test('behavior: invitees and requesters may join by link too', () => {
    expect(plan(INVITED, 'join', link())).toEqual(joins(INVITED))
    expect(plan(REQUESTED, 'join', link())).toEqual(joins(REQUESTED))
  })

  test('behavior: a link that needs approval only files a request', () => {
    expect(plan(OUTSIDER, 'join', link({ approval: true }))).toEqual(
      refused('forbidden', 'This invite link needs approval: ask to join with it.'),
    )
    expect(plan(OUTSIDER, 'request', link({ approval: true }))).toEqual(requests(OUTSIDER))
    expect(plan(OUTSIDER, 'request', link())).toEqual(requests(OUTSIDER))
  })

  test('behavior: the link expires at its time, the event time deciding', () => {
    const expiring = link({ expiresAt: LATER })
    expect(plan(OUTSIDER, 'join', expiring)).toEqual(joins(OUTSIDER))
    const expired = refused('link_expired', `This invite link expired at ${LATER}.`)
    expect(plan(OUTSIDER, 'join', expiring, { at: LATER })).toEqual(expired)
    expect(plan(OUTSIDER, 'request', link({ expiresAt: LATER, approval: true }), { at: LATER })).toEqual(expired)
    // `at` defaults to the event's own time.
    expect(planRoomEvent(roomView(), event(OUTSIDER, 'join', expiring, LATER))).toEqual(expired)
  })

  test('behavior: the issuer must be a member holding invite at the event', () => {
    expect(plan(OUTSIDER, 'join', link({ issuer: QUIET }))).toEqual(
      refused('forbidden', 'The issuer of this invite link no longer holds the "invite" permission.', 'invite'),
    )
    for (const issuer of [GONE, BANNED, OUTSIDER, INVITED]) {
      expect(plan(OUTSIDER, 'join', link({ issuer })), issuer).toEqual(
        refused('forbidden', 'The issuer of this invite link is no longer a member.'),
      )
    }
  })

  test('behavior: a link for another room, or in a room that is not private, is refused', () => {
    expect(plan(OUTSIDER, 'join', link({ room: OTHER_ROOM }))).toEqual(
      refused('invalid_request', 'This invite link is for another room.'),
    )
    for (const type of ['public', 'limited'] as const) {
      expect(plan(OUTSIDER, 'join', link(), { view: roomView(type) }), type).toEqual(
        refused('invalid_request', 'Only private rooms take invite links.'),
      )
    }
  })

  test('behavior: a link lets in no one banned, and no member twice', () => {
    expect(plan(BANNED, 'join', link())).toEqual(refused('banned', 'You are banned from this room.'))
    expect(plan(BANNED, 'request', link({ approval: true }))).toEqual(refused('banned', 'You are banned from this room.'))
    expect(plan(MEMBER, 'join', link())).toEqual(refused('conflict', 'You are already a member of this room.'))
    expect(plan(REQUESTED, 'request', link({ approval: true }))).toEqual(refused('conflict', 'You have already asked to join.'))
  })
})

describe('roomEventSchema', () => {
  test('behavior: a join or request may carry a valid invite link, and no other event does', async () => {
    const valid = event(OUTSIDER, 'join', link())
    expect(roomEventSchema.parse(valid)).toEqual(valid)
    expect(roomEventSchema.parse(event(OUTSIDER, 'request', link({ approval: true })))).toMatchObject({ type: 'request' })
    expect(roomEventSchema.safeParse({ ...valid, link: { ...link(), extra: 1 } }).success).toBe(false)
    expect(roomEventSchema.safeParse({ ...valid, link: link({ expiresAt: '2026-06-01T10:00:00.000Z' }) }).success).toBe(false)
    expect(roomEventSchema.safeParse({ ...valid, link: null }).success).toBe(false)
    expect(roomEventSchema.safeParse({ ...valid, type: 'leave' }).success).toBe(false)
  })
})

describe('verifyInviteLinkSignature', () => {
  test('default: true for the issuer key over exactly this link; false for any change or another key', async () => {
    const [issuer, other] = await Promise.all([makeRoomActor(), makeRoomActor()])
    const { signature: _signature, ...unsigned } = link({ issuer: issuer.address, issuerKey: issuer.actorKey })
    const signed = await signInviteLink(backend, { link: unsigned, signingKey: issuer.keys.ed25519.secretKey })
    const key = issuer.keys.ed25519.publicKey
    expect(await verifyInviteLinkSignature(backend, signed, key)).toBe(true)
    expect(await verifyInviteLinkSignature(backend, { ...signed, maxUses: 1000 }, key)).toBe(false)
    expect(await verifyInviteLinkSignature(backend, { ...signed, approval: true }, key)).toBe(false)
    expect(await verifyInviteLinkSignature(backend, { ...signed, room: OTHER_ROOM }, key)).toBe(false)
    expect(await verifyInviteLinkSignature(backend, signed, other.keys.ed25519.publicKey)).toBe(false)
    expect(await verifyInviteLinkSignature(backend, { ...signed, signature: 'not base64url!' }, key)).toBe(false)
  })
})

describe('RoomLogState', () => {
  test('behavior: a stranger joins by link; once the issuer left, its link lets no one in', async () => {
    const [owner, issuer, stranger, late] = await Promise.all([
      makeRoomActor(),
      makeRoomActor(),
      makeRoomActor(),
      makeRoomActor(),
    ])
    const room = toBase64Url(backend.randomBytes(16))
    const state = new RoomLogState(room)
    let prev: string | null = null
    const append = async (actor: typeof owner, body: Parameters<typeof makeRoomEvent>[0]) => {
      const index = (state.head?.index ?? 0) + 1
      const event = await makeRoomEvent(body, { actor, room, at: AT, basis: index - 1 })
      const entry: LogEntry = { v: 1, room, seq: index, index, prev, event }
      const cid = toBlock(entry).cid
      prev = cid
      return state.apply(entry, cid)
    }
    await append(owner, { type: 'create', roomType: 'private', name: 'L', description: '', announce: false, avatar: null })
    await append(owner, { type: 'invite', members: [issuer.address] })
    await append(issuer, { type: 'join' })
    await append(owner, { type: 'set_role', members: [issuer.address], role: 'admin' })
    const { signature: _signature, ...unsigned } = link({ room, issuer: issuer.address, issuerKey: issuer.actorKey })
    const signed = await signInviteLink(backend, { link: unsigned, signingKey: issuer.keys.ed25519.secretKey })
    expect(await append(stranger, { type: 'join', link: signed })).toEqual({ ok: true })
    expect(state.member(stranger.address).status).toBe('member')
    await append(issuer, { type: 'leave' })
    expect(await append(late, { type: 'join', link: signed })).toEqual({
      ok: false,
      problem: `join by ${late.address} refused: The issuer of this invite link is no longer a member.`,
    })
    expect(state.member(late.address).status).toBe('none')
  })
})
