/**
 * Who may do what in a group (permissions, roles and ranks): every call by every kind of
 * participant, against a table written out here from the rules (not computed with the protocol's
 * permission functions, so a wrong permission table in the code fails it). Allowed calls succeed;
 * refused ones get 403 with a stable code and change nothing in the database.
 */
import type { RoomEventBody } from '@dmtp/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GroupWallet, groupWallets, rolesOf, unlimited } from './_rooms.js'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import type { ApiResponse } from './_wallet.js'

const ACTORS = ['owner', 'admin', 'sub-admin', 'member', 'moderator', 'non-member', 'banned', 'muted'] as const
type Actor = (typeof ACTORS)[number]

const CALLS = [
  'send',
  'send link',
  'react',
  'edit own',
  'recall own',
  'recall other',
  'pin',
  'invite',
  'approve',
  'reject',
  'kick',
  'ban',
  'unban',
  'mute',
  'unmute',
  'set_role',
  'define_role',
  'update',
  'delete',
] as const
type Call = (typeof CALLS)[number]

/** `ok`, or the refusal: `forbidden <the permission named>`, `not_member`, `banned`, `muted`. */
type Outcome = 'ok' | `forbidden ${string}` | 'not_member' | 'banned' | 'muted'

// The custom role of these rooms: kick and mute, nothing else (not even send).
const MODERATOR = ['kick', 'mute'] as const

/**
 * The rules, per participant and call. Owner: everything. Admin: everything but deleting the
 * room. Sub Admin: send, links, react, invite, join requests, mute, unmute, pin. Member: send,
 * react, invite. A custom role: exactly its permissions. Recalling one's own message needs no
 * permission and works while muted; a mute silences messages and actions, not membership
 * events. Non-members and banned addresses can do nothing.
 */
const EXPECTED: Record<Actor, Record<Call, Outcome>> = {
  owner: {
    send: 'ok',
    'send link': 'ok',
    react: 'ok',
    'edit own': 'ok',
    'recall own': 'ok',
    'recall other': 'ok',
    pin: 'ok',
    invite: 'ok',
    approve: 'ok',
    reject: 'ok',
    kick: 'ok',
    ban: 'ok',
    unban: 'ok',
    mute: 'ok',
    unmute: 'ok',
    set_role: 'ok',
    define_role: 'ok',
    update: 'ok',
    delete: 'ok',
  },
  admin: {
    send: 'ok',
    'send link': 'ok',
    react: 'ok',
    'edit own': 'ok',
    'recall own': 'ok',
    'recall other': 'ok',
    pin: 'ok',
    invite: 'ok',
    approve: 'ok',
    reject: 'ok',
    kick: 'ok',
    ban: 'ok',
    unban: 'ok',
    mute: 'ok',
    unmute: 'ok',
    set_role: 'ok',
    define_role: 'ok',
    update: 'ok',
    delete: 'forbidden delete_room',
  },
  'sub-admin': {
    send: 'ok',
    'send link': 'ok',
    react: 'ok',
    'edit own': 'ok',
    'recall own': 'ok',
    'recall other': 'forbidden recall_others',
    pin: 'ok',
    invite: 'ok',
    approve: 'ok',
    reject: 'ok',
    kick: 'forbidden kick',
    ban: 'forbidden ban',
    unban: 'forbidden unban',
    mute: 'ok',
    unmute: 'ok',
    set_role: 'forbidden set_role',
    define_role: 'forbidden set_role',
    update: 'forbidden set_info',
    delete: 'forbidden delete_room',
  },
  member: {
    send: 'ok',
    'send link': 'forbidden send_links',
    react: 'ok',
    'edit own': 'ok',
    'recall own': 'ok',
    'recall other': 'forbidden recall_others',
    pin: 'forbidden pin',
    invite: 'ok',
    approve: 'forbidden accept_join_request',
    reject: 'forbidden accept_join_request',
    kick: 'forbidden kick',
    ban: 'forbidden ban',
    unban: 'forbidden unban',
    mute: 'forbidden mute',
    unmute: 'forbidden unmute',
    set_role: 'forbidden set_role',
    define_role: 'forbidden set_role',
    update: 'forbidden set_info',
    delete: 'forbidden delete_room',
  },
  moderator: {
    send: 'forbidden send',
    'send link': 'forbidden send',
    react: 'forbidden react',
    'edit own': 'forbidden send',
    'recall own': 'ok',
    'recall other': 'forbidden recall_others',
    pin: 'forbidden pin',
    invite: 'forbidden invite',
    approve: 'forbidden accept_join_request',
    reject: 'forbidden accept_join_request',
    kick: 'ok',
    ban: 'forbidden ban',
    unban: 'forbidden unban',
    mute: 'ok',
    unmute: 'forbidden unmute',
    set_role: 'forbidden set_role',
    define_role: 'forbidden set_role',
    update: 'forbidden set_info',
    delete: 'forbidden delete_room',
  },
  'non-member': {
    send: 'not_member',
    'send link': 'not_member',
    react: 'not_member',
    'edit own': 'not_member',
    'recall own': 'not_member',
    'recall other': 'not_member',
    pin: 'not_member',
    invite: 'not_member',
    approve: 'not_member',
    reject: 'not_member',
    kick: 'not_member',
    ban: 'not_member',
    unban: 'not_member',
    mute: 'not_member',
    unmute: 'not_member',
    set_role: 'not_member',
    define_role: 'not_member',
    update: 'not_member',
    delete: 'not_member',
  },
  banned: {
    send: 'banned',
    'send link': 'banned',
    react: 'banned',
    'edit own': 'banned',
    'recall own': 'banned',
    'recall other': 'banned',
    pin: 'banned',
    invite: 'banned',
    approve: 'banned',
    reject: 'banned',
    kick: 'banned',
    ban: 'banned',
    unban: 'banned',
    mute: 'banned',
    unmute: 'banned',
    set_role: 'banned',
    define_role: 'banned',
    update: 'banned',
    delete: 'banned',
  },
  muted: {
    send: 'muted',
    'send link': 'muted',
    react: 'muted',
    'edit own': 'muted',
    'recall own': 'ok',
    'recall other': 'forbidden recall_others',
    pin: 'muted',
    invite: 'ok',
    approve: 'forbidden accept_join_request',
    reject: 'forbidden accept_join_request',
    kick: 'forbidden kick',
    ban: 'forbidden ban',
    unban: 'forbidden unban',
    mute: 'forbidden mute',
    unmute: 'forbidden unmute',
    set_role: 'forbidden set_role',
    define_role: 'forbidden set_role',
    update: 'forbidden set_info',
    delete: 'forbidden delete_room',
  },
}

/** Everyone a table room needs besides its actor: one wallet per call that acts on someone. */
type Cast = {
  owner: GroupWallet
  kick: GroupWallet
  ban: GroupWallet
  mute: GroupWallet
  unmute: GroupWallet
  unban: GroupWallet
  role: GroupWallet
  invite: GroupWallet
  approve: GroupWallet
  reject: GroupWallet
  /** Author of the messages others react to, pin and recall. */
  victim: GroupWallet
}

/** A private room set up for one actor, and the messages its calls name. */
type Stage = {
  room: string
  actor: GroupWallet
  own: { edit: string; recall: string }
  victim: { react: string; pin: string; recall: string }
}

describe.each(DIALECTS)('room permissions (%s)', (dialect) => {
  let server: TestServer
  let cast: Cast
  let actors: Record<Exclude<Actor, 'owner'>, GroupWallet>

  beforeAll(async () => {
    server = await TestServer.create({ dialect, configure: unlimited })
    const wallets = await groupWallets(server, 18)
    const [owner, kick, ban, mute, unmute, unban, role, invite, approve, reject, victim, ...rest] = wallets as GroupWallet[]
    cast = { owner, kick, ban, mute, unmute, unban, role, invite, approve, reject, victim } as Cast
    const [admin, subAdmin, member, moderator, nonMember, banned, muted] = rest as GroupWallet[]
    actors = {
      admin,
      'sub-admin': subAdmin,
      member,
      moderator,
      'non-member': nonMember,
      banned,
      muted,
    } as Record<Exclude<Actor, 'owner'>, GroupWallet>
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  /**
   * A private room where `actor` is what it says and every call has a target it may act on: the
   * only thing a call can fail on is the actor's standing.
   */
  async function stage(kind: Actor): Promise<Stage> {
    const { owner } = cast
    const actor = kind === 'owner' ? owner : actors[kind]
    const room = await owner.createRoom({ type: 'private', name: `Table ${kind}` })
    const joining = [actor, cast.kick, cast.ban, cast.mute, cast.unmute, cast.unban, cast.role, cast.victim].filter(
      (w) => w !== owner,
    )
    await owner.must(room, { type: 'invite', members: joining.map((w) => w.address) })
    for (const wallet of joining) await wallet.must(room, { type: 'join' })
    await cast.approve.must(room, { type: 'request' })
    await cast.reject.must(room, { type: 'request' })
    const own = { edit: await actor.said(room, 'mine to edit'), recall: await actor.said(room, 'mine to recall') }
    const victim = {
      react: await cast.victim.said(room, 'react to me'),
      pin: await cast.victim.said(room, 'pin me'),
      recall: await cast.victim.said(room, 'recall me'),
    }
    await owner.must(room, { type: 'define_role', role: 'moderator', permissions: [...MODERATOR] })
    await owner.must(room, { type: 'mute', members: [cast.unmute.address], until: null })
    await owner.must(room, { type: 'ban', members: [cast.unban.address], until: null, removeMessages: false })
    switch (kind) {
      case 'admin':
      case 'sub-admin':
      case 'moderator':
        await owner.must(room, { type: 'set_role', members: [actor.address], role: kind })
        break
      case 'non-member':
        await actor.must(room, { type: 'leave' })
        break
      case 'banned':
        await owner.must(room, { type: 'ban', members: [actor.address], until: null, removeMessages: false })
        break
      case 'muted':
        await owner.must(room, { type: 'mute', members: [actor.address], until: null })
        break
    }
    return { room, actor, own, victim }
  }

  function event(room: string, actor: GroupWallet, body: RoomEventBody): Promise<ApiResponse> {
    return actor.act(room, body)
  }

  function call({ room, actor, own, victim }: Stage, name: Call): Promise<ApiResponse> {
    switch (name) {
      case 'send':
        return actor.say(room, 'hello everyone')
      case 'send link':
        return actor.say(room, 'read https://example.org/news first')
      case 'react':
        return actor.react(room, victim.react)
      case 'edit own':
        return actor.edit(room, own.edit, 'edited')
      case 'recall own':
        return actor.plain(room, 'recall', own.recall)
      case 'recall other':
        return actor.plain(room, 'recall', victim.recall)
      case 'pin':
        return actor.plain(room, 'pin', victim.pin)
      case 'invite':
        return event(room, actor, { type: 'invite', members: [cast.invite.address] })
      case 'approve':
        return event(room, actor, { type: 'approve', members: [cast.approve.address] })
      case 'reject':
        return event(room, actor, { type: 'reject', members: [cast.reject.address] })
      case 'kick':
        return event(room, actor, { type: 'kick', members: [cast.kick.address] })
      case 'ban':
        return event(room, actor, { type: 'ban', members: [cast.ban.address], until: null, removeMessages: false })
      case 'unban':
        return event(room, actor, { type: 'unban', members: [cast.unban.address] })
      case 'mute':
        return event(room, actor, { type: 'mute', members: [cast.mute.address], until: null })
      case 'unmute':
        return event(room, actor, { type: 'unmute', members: [cast.unmute.address] })
      case 'set_role':
        return event(room, actor, { type: 'set_role', members: [cast.role.address], role: 'sub-admin' })
      case 'define_role':
        return event(room, actor, { type: 'define_role', role: 'helper', permissions: ['pin'] })
      case 'update':
        return event(room, actor, { type: 'update', name: 'Renamed' })
      case 'delete':
        return event(room, actor, { type: 'delete' })
    }
  }

  test.each(ACTORS)('behavior: every call by %s is allowed or refused as the table says', async (kind) => {
    const staged = await stage(kind)
    const outcomes = {} as Record<Call, Outcome>
    // A refused call leaves the database as it was, so only an allowed one needs a new snapshot.
    let before = await snapshotDb(server)
    for (const name of CALLS) {
      const response = await call(staged, name)
      if (response.status === 200) {
        outcomes[name] = 'ok'
        before = await snapshotDb(server)
        continue
      }
      const { code, message } = response.body.error
      expect(response.status, `${kind} ${name}: ${response.text}`).toBe(403)
      if (code === 'forbidden') {
        // The message names the permission missing: the outcome records which one it names.
        const named = /"([a-z_]+)" permission/.exec(message)?.[1]
        outcomes[name] = `forbidden ${named ?? message}`
      } else {
        outcomes[name] = code
      }
      expect(await snapshotDb(server), `${kind} ${name} changed the database`).toEqual(before)
    }
    expect(outcomes).toEqual(EXPECTED[kind])
  })

  test('behavior: what the allowed calls of an owner did is what the room shows', async () => {
    const staged = await stage('owner')
    const { room, actor } = staged
    for (const name of CALLS.filter((name) => name !== 'delete')) expect((await call(staged, name)).status, name).toBe(200)
    const roles = await rolesOf(actor, room)
    expect(roles[cast.kick.address]).toBeUndefined()
    expect(roles[cast.ban.address]).toBeUndefined()
    expect(roles[cast.approve.address]).toBe('member')
    expect(roles[cast.role.address]).toBe('sub-admin')
    expect(roles[cast.unban.address]).toBeUndefined()
    expect((await actor.members(room, 'invited')).map((m) => m.address)).toEqual([cast.invite.address])
    expect(await actor.members(room, 'requested')).toEqual([])
    expect((await actor.members(room, 'banned')).map((m) => m.address)).toEqual([cast.ban.address])
    const info = (await actor.room(room)).body.room
    expect(info.name).toBe('Renamed')
    expect(info.customRoles).toEqual({ moderator: ['kick', 'mute'], helper: ['pin'] })
    const muted = await actor.members(room)
    expect(muted.find((m) => m.address === cast.mute.address)).toMatchObject({ mutedUntil: '9999-12-31T23:59:59.999Z' })
    expect(muted.find((m) => m.address === cast.unmute.address)).toMatchObject({ mutedUntil: null })
    expect((await call(staged, 'delete')).status).toBe(200)
    expect((await actor.room(room)).body.error.code).toBe('room_not_found')
  })

  test('behavior: in an announcement-only room members do not post, roles with send do', async () => {
    const { owner } = cast
    const [admin, subAdmin, member, herald] = [actors.admin, actors['sub-admin'], actors.member, actors.moderator]
    const room = await owner.createRoom({ type: 'public', name: 'News', announce: true })
    for (const wallet of [admin, subAdmin, member, herald]) await wallet.must(room, { type: 'join' })
    await owner.must(room, { type: 'set_role', members: [admin.address], role: 'admin' })
    await owner.must(room, { type: 'set_role', members: [subAdmin.address], role: 'sub-admin' })
    await owner.must(room, { type: 'define_role', role: 'herald', permissions: ['send'] })
    await owner.must(room, { type: 'set_role', members: [herald.address], role: 'herald' })
    const posted = await owner.said(room, 'the news')
    for (const wallet of [admin, subAdmin, herald]) expect((await wallet.say(room, 'also news')).status).toBe(200)
    // A herald holds send but not send_links.
    expect((await herald.say(room, 'see www.example.org')).body.error.message).toContain('"send_links"')
    const before = await snapshotDb(server)
    for (const text of ['may I?', 'see https://example.org']) {
      const refused = await member.say(room, text)
      expect(refused.status).toBe(403)
      expect(refused.body.error).toEqual({ code: 'forbidden', message: expect.stringContaining('"send" permission') })
    }
    expect((await member.edit(room, posted, 'not mine')).status).toBe(403)
    expect(await snapshotDb(server)).toEqual(before)
    // Members still react; once the room is no longer announcement-only they post again.
    expect((await member.react(room, posted)).status).toBe(200)
    await admin.must(room, { type: 'update', announce: false })
    expect((await member.say(room, 'finally')).status).toBe(200)
  })

  test('behavior: moderation reaches only lower ranks (owner 40, admin 30, sub-admin 20, custom 15, member 10)', async () => {
    const { owner, victim, kick } = cast
    const [admin, subAdmin, moderator, member] = [actors.admin, actors['sub-admin'], actors.moderator, actors.member]
    const room = await owner.createRoom({ type: 'public', name: 'Ranks below' })
    for (const wallet of [admin, subAdmin, moderator, member, victim, kick]) await wallet.must(room, { type: 'join' })
    await owner.must(room, { type: 'set_role', members: [admin.address], role: 'admin' })
    await owner.must(room, { type: 'set_role', members: [subAdmin.address], role: 'sub-admin' })
    await owner.must(room, { type: 'define_role', role: 'moderator', permissions: [...MODERATOR] })
    await owner.must(room, { type: 'set_role', members: [moderator.address, kick.address], role: 'moderator' })
    const refusals: [GroupWallet, RoomEventBody, string][] = [
      [subAdmin, { type: 'mute', members: [admin.address], until: null }, 'mute'],
      [moderator, { type: 'kick', members: [subAdmin.address] }, 'kick'],
      [moderator, { type: 'mute', members: [kick.address], until: null }, 'mute'],
      [admin, { type: 'set_role', members: [owner.address], role: 'admin' }, 'set_role'],
    ]
    for (const [actor, body, permission] of refusals) {
      const before = await snapshotDb(server)
      const response = await actor.act(room, body)
      expect(response.status, response.text).toBe(403)
      expect(response.body.error).toEqual({
        code: 'forbidden',
        message: expect.stringContaining(`cannot ${permission === 'set_role' ? 'change the role of' : permission}`),
      })
      expect(await snapshotDb(server)).toEqual(before)
    }
    expect((await subAdmin.act(room, { type: 'mute', members: [moderator.address], until: null })).status).toBe(200)
    expect((await moderator.act(room, { type: 'kick', members: [victim.address] })).status).toBe(200)
    expect((await admin.act(room, { type: 'kick', members: [subAdmin.address] })).status).toBe(200)
    expect((await owner.act(room, { type: 'kick', members: [admin.address] })).status).toBe(200)
    expect((await member.act(room, { type: 'kick', members: [kick.address] })).body.error.message).toContain('"kick" permission')
  })

  test('behavior: nobody grants what they do not hold, and an admin cannot touch an owner', async () => {
    const { owner } = cast
    const [admin, other, member] = [actors.admin, actors['sub-admin'], actors.member]
    const room = await owner.createRoom({ type: 'public', name: 'Ranks' })
    for (const wallet of [admin, other, member]) await wallet.must(room, { type: 'join' })
    await owner.must(room, { type: 'set_role', members: [admin.address, other.address], role: 'admin' })
    await owner.must(room, { type: 'define_role', role: 'vice', permissions: ['send', 'delete_room'] })
    const attempts: [string, RoomEventBody][] = [
      ['make a member owner', { type: 'set_role', members: [member.address], role: 'owner' }],
      ['make itself owner', { type: 'set_role', members: [admin.address], role: 'owner' }],
      ['give a role holding delete_room', { type: 'set_role', members: [member.address], role: 'vice' }],
      ['define a role with delete_room', { type: 'define_role', role: 'boss', permissions: ['send', 'delete_room'] }],
      ['define a role with e2ee_off', { type: 'define_role', role: 'boss', permissions: ['e2ee_off'] }],
      ['redefine a role holding delete_room', { type: 'define_role', role: 'vice', permissions: ['send'] }],
      ['delete a role holding delete_room', { type: 'delete_role', role: 'vice' }],
      ['demote the owner', { type: 'set_role', members: [owner.address], role: 'member' }],
      ['kick the owner', { type: 'kick', members: [owner.address] }],
      ['ban the owner', { type: 'ban', members: [owner.address], until: null, removeMessages: false }],
      ['mute the owner', { type: 'mute', members: [owner.address], until: null }],
      ['kick another admin', { type: 'kick', members: [other.address] }],
      ['demote another admin', { type: 'set_role', members: [other.address], role: 'member' }],
    ]
    for (const [what, body] of attempts) {
      const before = await snapshotDb(server)
      const response = await admin.act(room, body)
      expect(response.status, `an admin may not ${what}: ${response.text}`).toBe(403)
      expect(response.body.error.code, what).toBe('forbidden')
      expect(await snapshotDb(server), what).toEqual(before)
    }
    // The owner may do each of these, as the one who holds everything.
    expect((await owner.act(room, { type: 'set_role', members: [other.address], role: 'member' })).status).toBe(200)
    expect((await owner.act(room, { type: 'set_role', members: [member.address], role: 'owner' })).status).toBe(200)
    expect(await rolesOf(owner, room)).toMatchObject({ [member.address]: 'owner', [owner.address]: 'owner' })
  })
})
