/**
 * `RoomLogState`, the replay of a membership log every client runs: a valid log, every chain
 * problem (reported, not applied), events the rules refuse (reported, not applied, the chain goes
 * on), ownership succession, deletion when the last member leaves, and the state before a
 * position (`viewAt`). The entries hold real signed events (generated keys), as a server serves
 * them, although the replay itself leaves signatures to its caller.
 */
import {
  FOREVER,
  type LogEntry,
  type MemberState,
  NO_MEMBER,
  planRoomAction,
  type RoomEvent,
  type RoomEventBody,
  type RoomLogRoom,
  RoomLogState,
  toBase64Url,
  toBlock,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { beforeAll, describe, expect, test } from 'vitest'
import { makeRoomActor, makeRoomEvent, type RoomActor } from './_util.js'

/** The time of room position `seq`: one minute per position from noon. */
const timeAt = (seq: number) => new Date(Date.UTC(2026, 5, 1, 12, seq)).toISOString()

type Appended = { entry: LogEntry; cid: string }

/**
 * Writes a room's log as a server would: each entry at the next index, linking the one before,
 * at a position after it (`gap` positions held by messages in between). `overrides` make the bad
 * entries; the log goes on from whatever was last written, as the replay does.
 */
class LogWriter {
  readonly written: Appended[] = []
  readonly room = toBase64Url(nodeCryptoBackend.randomBytes(16))

  async event(
    actor: RoomActor,
    body: RoomEventBody,
    { gap = 0, at, basis, overrides = {} }: { gap?: number; at?: string; basis?: number; overrides?: Partial<LogEntry> } = {},
  ): Promise<Appended> {
    const last = this.written.at(-1)
    const seq = (last?.entry.seq ?? 0) + 1 + gap
    const event = await makeRoomEvent(body, {
      actor,
      room: this.room,
      at: at ?? timeAt(seq),
      basis: basis ?? last?.entry.seq ?? 0,
    })
    return this.entry(event, { seq, ...overrides })
  }

  /** Appends an entry holding `event` as it is (a replayed or foreign event). */
  entry(event: RoomEvent, overrides: Partial<LogEntry> = {}): Appended {
    const last = this.written.at(-1)
    const entry: LogEntry = {
      v: 1,
      room: this.room,
      seq: (last?.entry.seq ?? 0) + 1,
      index: (last?.entry.index ?? 0) + 1,
      prev: last?.cid ?? null,
      event,
      ...overrides,
    }
    const appended = { entry, cid: toBlock(entry, nodeCryptoBackend.sha256).cid }
    this.written.push(appended)
    return appended
  }
}

const apply = (state: RoomLogState, { entry, cid }: Appended) => state.apply(entry, cid)
const OK = { ok: true }

let alice: RoomActor
let bob: RoomActor
let carol: RoomActor
let dave: RoomActor
let erin: RoomActor
beforeAll(async () => {
  const make = () => makeRoomActor(nodeCryptoBackend)
  ;[alice, bob, carol, dave, erin] = await Promise.all([make(), make(), make(), make(), make()])
})

const CREATE = {
  type: 'create',
  roomType: 'private',
  name: 'Crew',
  description: 'Who sails',
  announce: false,
  avatar: null,
} as const satisfies RoomEventBody
const CREATE_PUBLIC = { ...CREATE, roomType: 'public' } as const satisfies RoomEventBody

const state = (more: Partial<MemberState>): MemberState => ({ ...NO_MEMBER, ...more })
const room = (more: Partial<RoomLogRoom>): RoomLogRoom => ({
  type: 'private',
  announce: false,
  customRoles: {},
  name: 'Crew',
  description: 'Who sails',
  avatar: null,
  deleted: false,
  e2ee: false,
  plain: false,
  owners: 1,
  members: 1,
  ...more,
})

/** A public room: alice (Owner, seq 1), bob (seq 2), carol (seq 3) joined. */
async function threeMembers() {
  const log = new LogWriter()
  const replay = new RoomLogState(log.room)
  for (const [actor, body] of [
    [alice, CREATE_PUBLIC],
    [bob, { type: 'join' }],
    [carol, { type: 'join' }],
  ] as const) {
    expect(apply(replay, await log.event(actor, body))).toEqual(OK)
  }
  return { log, replay }
}

describe('RoomLogState', () => {
  test('default', async () => {
    const log = new LogWriter()
    const replay = new RoomLogState(log.room)
    const steps: [RoomActor, RoomEventBody, { gap?: number }?][] = [
      [alice, CREATE],
      [alice, { type: 'invite', members: [bob.address, carol.address] }],
      [bob, { type: 'join' }],
      // Two messages take positions 4 and 5.
      [dave, { type: 'request' }, { gap: 2 }],
      [alice, { type: 'approve', members: [dave.address] }],
      [alice, { type: 'set_role', members: [bob.address], role: 'admin' }],
      [alice, { type: 'define_role', role: 'mod', permissions: ['send', 'react', 'kick'] }],
      [bob, { type: 'set_role', members: [dave.address], role: 'mod' }],
      [bob, { type: 'mute', members: [dave.address], until: timeAt(60) }],
      [alice, { type: 'update', name: 'Crew 2', announce: true }],
    ]
    for (const [actor, body, options] of steps) {
      expect(apply(replay, await log.event(actor, body, options)), body.type).toEqual(OK)
    }
    const last = log.written.at(-1) as Appended
    expect(replay.head).toEqual({ index: 10, cid: last.cid, seq: 12 })
    expect(replay.room).toEqual(
      room({ name: 'Crew 2', announce: true, customRoles: { mod: ['send', 'react', 'kick'] }, members: 3 }),
    )
    expect(replay.member(alice.address)).toEqual(state({ status: 'member', role: 'owner', joinedSeq: 1 }))
    expect(replay.member(bob.address)).toEqual(state({ status: 'member', role: 'admin', joinedSeq: 3 }))
    expect(replay.member(carol.address)).toEqual(state({ status: 'invited' }))
    expect(replay.member(dave.address)).toEqual(state({ status: 'member', role: 'mod', joinedSeq: 7, mutedUntil: timeAt(60) }))
    expect(replay.member(erin.address)).toEqual(NO_MEMBER)
    expect(new Map(replay.entries())).toEqual(
      new Map([
        [alice.address, replay.member(alice.address)],
        [bob.address, replay.member(bob.address)],
        [carol.address, replay.member(carol.address)],
        [dave.address, replay.member(dave.address)],
      ]),
    )
    expect(replay.recalls).toEqual([])
  })

  test("behavior: signatures are the caller's to check: a forged one replays like any other", async () => {
    const log = new LogWriter()
    const replay = new RoomLogState(log.room)
    expect(apply(replay, await log.event(alice, CREATE_PUBLIC))).toEqual(OK)
    const join = await makeRoomEvent({ type: 'join' }, { actor: bob, room: log.room, at: timeAt(2), basis: 1 })
    expect(apply(replay, log.entry({ ...join, signature: toBase64Url(new Uint8Array(64)) }))).toEqual(OK)
    expect(replay.member(bob.address).status).toBe('member')
  })

  describe('chain problems: reported, not applied; the chain goes on from the reported entry', () => {
    /** Applies `bad` after the three-member room and checks nothing changed but the head. */
    async function refused(make: (log: LogWriter) => Promise<Appended> | Appended, problem: string) {
      const { log, replay } = await threeMembers()
      const before = { room: replay.room, members: replay.entries() }
      const bad = await make(log)
      expect(apply(replay, bad)).toEqual({ ok: false, problem })
      expect({ room: replay.room, members: replay.entries() }).toEqual(before)
      expect(replay.head).toEqual({ index: bad.entry.index, cid: bad.cid, seq: bad.entry.seq })
      return { log, replay, bad }
    }

    test('behavior: an index that does not follow', async () => {
      await refused((log) => log.event(dave, { type: 'join' }, { overrides: { index: 5 } }), 'entry 5 follows entry 3')
      await refused((log) => log.event(dave, { type: 'join' }, { overrides: { index: 3 } }), 'entry 3 follows entry 3')
      const { log, replay } = await refused(
        (log) => log.event(dave, { type: 'join' }, { overrides: { index: 2 } }),
        'entry 2 follows entry 3',
      )
      // The next entry follows the reported one (index 3), not the last applied one.
      expect(apply(replay, await log.event(erin, { type: 'join' }))).toEqual(OK)
      expect(replay.member(erin.address).status).toBe('member')
      expect(replay.member(dave.address)).toEqual(NO_MEMBER)
    })

    test('behavior: a prev that is not the entry before', async () => {
      const { log, replay } = await refused(
        (log) => log.event(dave, { type: 'join' }, { overrides: { prev: log.written[0]?.cid as string } }),
        'entry 4 does not link the entry before it',
      )
      await refused(
        (log) => log.event(dave, { type: 'join' }, { overrides: { prev: null } }),
        'entry 4 does not link the entry before it',
      )
      expect(apply(replay, await log.event(erin, { type: 'join' }))).toEqual(OK)
    })

    test('behavior: a position not after the entry before', async () => {
      await refused(
        (log) => log.event(dave, { type: 'join' }, { overrides: { seq: 3 } }),
        'entry 4 is placed before the entry before it',
      )
      const { log, replay } = await refused(
        (log) => log.event(dave, { type: 'join' }, { basis: 0, overrides: { seq: 2 } }),
        'entry 4 is placed before the entry before it',
      )
      // The chain goes on from the reported entry's position.
      expect(apply(replay, await log.event(erin, { type: 'join' }))).toEqual(OK)
      expect(replay.member(erin.address).joinedSeq).toBe(3)
    })

    test('behavior: a position at or before what its actor had seen (basis)', async () => {
      await refused((log) => log.event(dave, { type: 'join' }, { basis: 4 }), 'entry 4 is placed before what its actor had seen')
      const { log, replay } = await refused(
        (log) => log.event(dave, { type: 'join' }, { basis: 9 }),
        'entry 4 is placed before what its actor had seen',
      )
      expect(apply(replay, await log.event(erin, { type: 'join' }))).toEqual(OK)
    })

    test('behavior: an event accepted before, again', async () => {
      const { log, replay } = await refused(
        (log) => log.entry((log.written[1] as Appended).entry.event, { seq: 4 }),
        'entry 4 replays an earlier event',
      )
      expect(apply(replay, await log.event(erin, { type: 'join' }))).toEqual(OK)
      // Also an event refused by the rules once is not placed again.
      const kick = await makeRoomEvent(
        { type: 'kick', members: [alice.address] },
        { actor: bob, room: log.room, at: timeAt(6), basis: 5 },
      )
      expect(apply(replay, log.entry(kick, { seq: 6 }))).toEqual({
        ok: false,
        problem: `kick by ${bob.address} refused: This needs the "kick" permission, which your role does not have.`,
      })
      expect(apply(replay, log.entry(kick, { seq: 7 }))).toEqual({ ok: false, problem: 'entry 7 replays an earlier event' })
    })

    test('behavior: an entry, or an event, of another room', async () => {
      const elsewhere = toBase64Url(nodeCryptoBackend.randomBytes(16))
      await refused(
        (log) => log.event(dave, { type: 'join' }, { overrides: { room: elsewhere } }),
        'entry 4 belongs to another room',
      )
      await refused(async (log) => {
        const join = await makeRoomEvent({ type: 'join' }, { actor: dave, room: elsewhere, at: timeAt(4), basis: 3 })
        return log.entry(join, { seq: 4 })
      }, 'entry 4 belongs to another room')
    })
  })

  describe('the first entry', () => {
    test('behavior: a log starts at index 1 with no prev', async () => {
      for (const overrides of [{ index: 2 }, { prev: toBlock({ other: 'log' }).cid }, { index: 0 }]) {
        const log = new LogWriter()
        const replay = new RoomLogState(log.room)
        expect(apply(replay, await log.event(alice, CREATE_PUBLIC, { overrides }))).toEqual({
          ok: false,
          problem: 'the log does not start with its first entry',
        })
        expect(replay.member(alice.address)).toEqual(NO_MEMBER)
      }
    })

    test('behavior: its basis is before its position too', async () => {
      const log = new LogWriter()
      const replay = new RoomLogState(log.room)
      expect(apply(replay, await log.event(alice, CREATE_PUBLIC, { basis: 1 }))).toEqual({
        ok: false,
        problem: 'entry 1 is placed before what its actor had seen',
      })
    })

    test('behavior: it is a create; without one, no later event makes a room', async () => {
      const log = new LogWriter()
      const replay = new RoomLogState(log.room)
      expect(apply(replay, await log.event(bob, { type: 'join' }))).toEqual({
        ok: false,
        problem: `join by ${bob.address} refused: A room starts with a create event.`,
      })
      // Were the default room (public) taken as created, carol would join and become its Owner.
      expect(apply(replay, await log.event(carol, { type: 'join' }))).toEqual({
        ok: false,
        problem: `join by ${carol.address} refused: The log does not start with a create event.`,
      })
      expect(apply(replay, await log.event(alice, CREATE_PUBLIC))).toEqual({
        ok: false,
        problem: `create by ${alice.address} refused: The log does not start with a create event.`,
      })
      expect(replay.entries()).toEqual([])
      expect(replay.room.members).toBe(0)
      expect(replay.head?.index).toBe(3)
    })

    test('behavior: a create whose entry breaks the chain makes no room either', async () => {
      const log = new LogWriter()
      const replay = new RoomLogState(log.room)
      expect(apply(replay, await log.event(alice, CREATE_PUBLIC, { overrides: { index: 2 } })).ok).toBe(false)
      expect(apply(replay, await log.event(bob, { type: 'join' }))).toEqual({
        ok: false,
        problem: `join by ${bob.address} refused: The log does not start with a create event.`,
      })
      expect(replay.member(bob.address)).toEqual(NO_MEMBER)
    })
  })

  test('behavior: an event the rules refuse is reported, not applied, and the chain goes on after it', async () => {
    const { log, replay } = await threeMembers()
    expect(apply(replay, await log.event(alice, { type: 'set_role', members: [bob.address], role: 'admin' }))).toEqual(OK)
    const before = { room: replay.room, members: replay.entries() }
    const kick = await log.event(bob, { type: 'kick', members: [alice.address] })
    expect(apply(replay, kick)).toEqual({
      ok: false,
      problem: `kick by ${bob.address} refused: Your role cannot kick ${alice.address}.`,
    })
    expect({ room: replay.room, members: replay.entries() }).toEqual(before)
    expect(replay.head).toEqual({ index: 5, cid: kick.cid, seq: 5 })
    expect(apply(replay, await log.event(dave, { type: 'request' }))).toEqual({
      ok: false,
      problem: `request by ${dave.address} refused: Only private rooms take requests to join.`,
    })
    expect(apply(replay, await log.event(carol, { type: 'update', name: 'Mine' }))).toEqual({
      ok: false,
      problem: `update by ${carol.address} refused: This needs the "set_info" permission, which your role does not have.`,
    })
    expect({ room: replay.room, members: replay.entries() }).toEqual(before)
    expect(apply(replay, await log.event(alice, { type: 'kick', members: [bob.address] }))).toEqual(OK)
    expect(replay.member(bob.address)).toEqual(NO_MEMBER)
    expect(replay.head?.index).toBe(8)
  })

  describe('ownership succession', () => {
    test('behavior: the last Owner leaving makes the longest-standing Admin the Owner', async () => {
      const { log, replay } = await threeMembers()
      expect(apply(replay, await log.event(dave, { type: 'join' }))).toEqual(OK)
      expect(
        apply(replay, await log.event(alice, { type: 'set_role', members: [dave.address, carol.address], role: 'admin' })),
      ).toEqual(OK)
      expect(apply(replay, await log.event(alice, { type: 'leave' }))).toEqual(OK)
      expect(replay.member(carol.address)).toEqual(state({ status: 'member', role: 'owner', joinedSeq: 3 }))
      expect(replay.member(dave.address)).toEqual(state({ status: 'member', role: 'admin', joinedSeq: 4 }))
      expect(replay.member(bob.address)).toEqual(state({ status: 'member', role: 'member', joinedSeq: 2 }))
      expect(replay.room).toMatchObject({ owners: 1, members: 3 })
      // Carol is Owner from that position on.
      expect(replay.viewAt(6).member(carol.address).role).toBe('admin')
      expect(replay.viewAt(7).member(carol.address).role).toBe('owner')
    })

    test('behavior: without an Admin, the longest-standing member', async () => {
      const { log, replay } = await threeMembers()
      expect(apply(replay, await log.event(alice, { type: 'set_role', members: [carol.address], role: 'sub-admin' }))).toEqual(OK)
      expect(apply(replay, await log.event(alice, { type: 'leave' }))).toEqual(OK)
      expect(replay.member(bob.address)).toEqual(state({ status: 'member', role: 'owner', joinedSeq: 2 }))
      expect(replay.member(carol.address).role).toBe('sub-admin')
    })

    test('behavior: a banned Owner leaves the other Owner in charge; succession waits for the last one', async () => {
      const { log, replay } = await threeMembers()
      expect(apply(replay, await log.event(alice, { type: 'set_role', members: [carol.address], role: 'owner' }))).toEqual(OK)
      expect(
        apply(replay, await log.event(carol, { type: 'ban', members: [alice.address], until: null, removeMessages: false })),
      ).toEqual(OK)
      // Carol is still an Owner: nobody succeeds.
      expect(replay.room).toMatchObject({ owners: 1, members: 2 })
      expect(replay.member(bob.address).role).toBe('member')
      expect(replay.member(alice.address)).toEqual(state({ banned: true }))
      expect(apply(replay, await log.event(carol, { type: 'leave' }))).toEqual(OK)
      expect(replay.member(bob.address).role).toBe('owner')
    })

    test('behavior: while another Owner remains, nobody is promoted', async () => {
      const { log, replay } = await threeMembers()
      expect(apply(replay, await log.event(alice, { type: 'set_role', members: [carol.address], role: 'owner' }))).toEqual(OK)
      expect(apply(replay, await log.event(alice, { type: 'leave' }))).toEqual(OK)
      expect(replay.member(bob.address).role).toBe('member')
      expect(replay.member(carol.address).role).toBe('owner')
      expect(replay.room).toMatchObject({ owners: 1, members: 2 })
    })
  })

  test('behavior: the last member leaving deletes the room; nothing happens in it after', async () => {
    const log = new LogWriter()
    const replay = new RoomLogState(log.room)
    expect(apply(replay, await log.event(alice, CREATE))).toEqual(OK)
    expect(apply(replay, await log.event(alice, { type: 'invite', members: [bob.address] }))).toEqual(OK)
    expect(apply(replay, await log.event(alice, { type: 'leave' }))).toEqual(OK)
    expect(replay.room).toEqual(room({ deleted: true, owners: 0, members: 0 }))
    // An invitation does not keep a room alive, nor can it be used after.
    expect(apply(replay, await log.event(bob, { type: 'join' }))).toEqual({
      ok: false,
      problem: `join by ${bob.address} refused: This room was deleted.`,
    })
    expect(replay.viewAt(3).room.deleted).toBe(false)
    expect(replay.viewAt(4).room.deleted).toBe(true)
  })

  test('behavior: delete deletes, members or not', async () => {
    const { log, replay } = await threeMembers()
    expect(apply(replay, await log.event(alice, { type: 'delete' }))).toEqual(OK)
    expect(replay.room).toMatchObject({ deleted: true, members: 3 })
    expect(apply(replay, await log.event(bob, { type: 'leave' }))).toEqual({
      ok: false,
      problem: `leave by ${bob.address} refused: This room was deleted.`,
    })
  })

  test('behavior: all-actions reach the current members of the roles named, not the actor nor others', async () => {
    const { log, replay } = await threeMembers()
    expect(apply(replay, await log.event(alice, { type: 'set_role', members: [bob.address], role: 'sub-admin' }))).toEqual(OK)
    expect(apply(replay, await log.event(alice, { type: 'invite', members: [dave.address] }))).toEqual(OK)
    expect(apply(replay, await log.event(bob, { type: 'mute', all: true, until: null }))).toEqual(OK)
    expect(replay.member(carol.address).mutedUntil).toBe(FOREVER)
    expect(replay.member(bob.address).mutedUntil).toBeNull()
    expect(replay.member(alice.address).mutedUntil).toBeNull()
    expect(replay.member(dave.address)).toEqual(state({ status: 'invited' }))
    // Dave joins after the mute: `all` meant the members then.
    expect(apply(replay, await log.event(dave, { type: 'join' }))).toEqual(OK)
    expect(replay.member(dave.address).mutedUntil).toBeNull()
    expect(apply(replay, await log.event(alice, { type: 'kick', all: true }))).toEqual(OK)
    expect(replay.member(bob.address)).toEqual(state({}))
    expect(replay.member(carol.address)).toEqual(state({ mutedUntil: FOREVER }))
    expect(replay.room).toMatchObject({ members: 1, owners: 1 })
  })

  test('behavior: deleting a role makes its holders Members', async () => {
    const { log, replay } = await threeMembers()
    expect(apply(replay, await log.event(alice, { type: 'define_role', role: 'mod', permissions: ['kick'] }))).toEqual(OK)
    expect(
      apply(replay, await log.event(alice, { type: 'set_role', members: [bob.address, carol.address], role: 'mod' })),
    ).toEqual(OK)
    expect(replay.room.customRoles).toEqual({ mod: ['kick'] })
    expect(apply(replay, await log.event(alice, { type: 'delete_role', role: 'mod' }))).toEqual(OK)
    expect(replay.room.customRoles).toEqual({})
    expect(replay.member(bob.address).role).toBe('member')
    expect(replay.member(carol.address).role).toBe('member')
    expect(replay.viewAt(6).room.customRoles).toEqual({ mod: ['kick'] })
  })

  test('behavior: a ban removing messages records the recall; a timed ban lifts at its time', async () => {
    const { log, replay } = await threeMembers()
    expect(
      apply(replay, await log.event(alice, { type: 'ban', members: [bob.address], until: timeAt(10), removeMessages: true })),
    ).toEqual(OK)
    expect(replay.recalls).toEqual([{ sender: bob.address, seq: 4 }])
    expect(replay.member(bob.address)).toEqual(state({ banned: true, bannedUntil: timeAt(10) }))
    expect(apply(replay, await log.event(bob, { type: 'join' }))).toEqual({
      ok: false,
      problem: `join by ${bob.address} refused: You are banned from this room.`,
    })
    expect(apply(replay, await log.event(bob, { type: 'join' }, { gap: 4, at: timeAt(10) }))).toEqual(OK)
    // Joining again clears the lapsed ban: the member is not banned, nor has a ban time.
    expect(replay.member(bob.address)).toEqual(state({ status: 'member', role: 'member', joinedSeq: 10 }))
    expect(replay.member(bob.address)).toMatchObject({ banned: false, bannedUntil: null })
    // Before the join, the lapsed ban is still on record.
    expect(replay.viewAt(10).member(bob.address)).toEqual(state({ banned: true, bannedUntil: timeAt(10) }))
  })

  test('behavior: a request approved once a ban has lapsed clears the ban', async () => {
    const log = new LogWriter()
    const replay = new RoomLogState(log.room)
    expect(apply(replay, await log.event(alice, CREATE))).toEqual(OK)
    expect(
      apply(replay, await log.event(alice, { type: 'ban', members: [bob.address], until: timeAt(5), removeMessages: false })),
    ).toEqual(OK)
    expect(apply(replay, await log.event(bob, { type: 'request' }))).toEqual({
      ok: false,
      problem: `request by ${bob.address} refused: You are banned from this room.`,
    })
    expect(apply(replay, await log.event(bob, { type: 'request' }, { gap: 1 }))).toEqual(OK)
    expect(replay.member(bob.address)).toEqual(state({ status: 'requested', banned: true, bannedUntil: timeAt(5) }))
    expect(apply(replay, await log.event(alice, { type: 'approve', members: [bob.address] }))).toEqual(OK)
    expect(replay.member(bob.address)).toEqual(state({ status: 'member', role: 'member', joinedSeq: 6 }))
  })

  describe('viewAt', () => {
    test('default', async () => {
      const { log, replay } = await threeMembers()
      // Messages at 4 and 5; bob muted at 6 until position 9's time; bob kicked at 10.
      expect(
        apply(replay, await log.event(alice, { type: 'mute', members: [bob.address], until: timeAt(9) }, { gap: 2 })),
      ).toEqual(OK)
      expect(apply(replay, await log.event(alice, { type: 'kick', members: [bob.address] }, { gap: 3 }))).toEqual(OK)
      const message = (seq: number) =>
        planRoomAction(replay.viewAt(seq), { sender: bob.address, type: 'message', at: timeAt(seq), text: 'gm' })

      expect(replay.viewAt(2).member(bob.address)).toEqual(NO_MEMBER)
      expect(replay.viewAt(3).member(bob.address)).toEqual(state({ status: 'member', role: 'member', joinedSeq: 2 }))
      expect(message(2).ok).toBe(false)
      expect(message(4)).toEqual({ ok: true })
      expect(message(5)).toEqual({ ok: true })
      expect(message(7)).toEqual({ ok: false, code: 'muted', message: `You are muted in this room until ${timeAt(9)}.` })
      expect(message(9)).toEqual({ ok: true })
      expect(message(11)).toEqual({ ok: false, code: 'not_member', message: 'You are not a member of this room.' })
      expect(replay.viewAt(10).member(bob.address).mutedUntil).toBe(timeAt(9))
      expect(replay.viewAt(11).member(bob.address)).toEqual(state({ mutedUntil: timeAt(9) }))
    })

    test('behavior: the room as it was before the position', async () => {
      const { log, replay } = await threeMembers()
      expect(apply(replay, await log.event(alice, { type: 'update', name: 'Renamed', announce: true }))).toEqual(OK)
      expect(replay.viewAt(1).room).toMatchObject({ members: 0, owners: 0, deleted: false })
      expect(replay.viewAt(2).room).toEqual(room({ type: 'public', members: 1 }))
      expect(replay.viewAt(4).room).toEqual(room({ type: 'public', members: 3 }))
      expect(replay.viewAt(5).room).toEqual(room({ type: 'public', members: 3, name: 'Renamed', announce: true }))
      expect(replay.viewAt(1000).room).toEqual(replay.room)
      expect(replay.viewAt(1).member(alice.address)).toEqual(NO_MEMBER)
      expect(replay.viewAt(2).member(alice.address)).toEqual(state({ status: 'member', role: 'owner', joinedSeq: 1 }))
    })

    test('behavior: a view does not change when the log goes on', async () => {
      const { log, replay } = await threeMembers()
      const view = replay.viewAt(4)
      expect(apply(replay, await log.event(alice, { type: 'kick', members: [bob.address, carol.address] }))).toEqual(OK)
      expect(apply(replay, await log.event(alice, { type: 'update', name: 'Quiet' }))).toEqual(OK)
      expect(view.member(bob.address).status).toBe('member')
      expect(view.room).toMatchObject({ name: 'Crew', members: 3 })
      expect(replay.viewAt(4).member(bob.address).status).toBe('member')
    })
  })
})
