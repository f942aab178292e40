/**
 * A server that writes its database by hand cannot make a group message appear from someone
 * else, nor make members or roles appear: the forged rows below bypass every server check, and
 * the receiving client refuses each (as a status, never as a message). And a group's history
 * verifies against the chain and recovers from it, as a 1:1 conversation's does: reordered, it
 * fails verify and recovers in the anchored order.
 */
import {
  generateDmtpKeys,
  type LogEntry,
  SIGNED_SUITE,
  sealSignedEnvelope,
  signRoomEvent,
  toBase64Url,
  toBlock,
  type UnsignedRoomEvent,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { describe, expect, test } from 'vitest'
import { foldMessages } from '../../src/index.js'
import { DIALECTS, newClient, TestServer } from '../_util.js'
import { attack } from './attack.js'

type Client = ReturnType<typeof newClient>

/** Appends a row at the room's next position, as the writer would, but with no check at all. */
async function forgeRow(
  server: TestServer,
  row: {
    room: string
    kind: 'envelope' | 'log'
    type: string
    sender: string
    text: string
    cid: string
    content?: { text: string; cid: string }
  },
) {
  const db = server.ctx.database.db
  const room = await db.selectFrom('rooms').select(['seq']).where('id', '=', row.room).executeTakeFirstOrThrow()
  const counter = await db.selectFrom('counters').select('value').where('name', '=', 'pos').executeTakeFirstOrThrow()
  const seq = room.seq + 1
  const pos = counter.value + 1
  const now = new Date().toISOString()
  await db
    .insertInto('messages')
    .values({
      id: toBase64Url(crypto.randomBytes(16)),
      room_id: row.room,
      seq,
      pos,
      kind: row.kind,
      type: row.type,
      ref: null,
      sender: row.sender,
      receiver: null,
      timestamp: now,
      cid: row.cid,
      envelope: row.text,
      content: row.content?.text ?? null,
      content_cid: row.content?.cid ?? null,
      e2ee: 0,
      received_at: now,
      recalled_by: null,
      pinned_by: null,
    })
    .execute()
  await db.updateTable('rooms').set({ seq, last_pos: pos }).where('id', '=', row.room).execute()
  await db.updateTable('counters').set({ value: pos }).where('name', '=', 'pos').execute()
  server.ctx.roomCache.clear()
  return seq
}

/** A signed message as `signer` made it, claiming to be from `as` with `key`. */
async function forgedMessage(
  server: TestServer,
  room: string,
  { as, key, signer, text }: { as: string; key: string; signer: Uint8Array; text: string },
) {
  const head = await server.ctx.database.db
    .selectFrom('rooms')
    .select('log_head')
    .where('id', '=', room)
    .executeTakeFirstOrThrow()
  const { envelope, content } = await sealSignedEnvelope(crypto, {
    header: {
      v: 1,
      suite: SIGNED_SUITE,
      id: toBase64Url(crypto.randomBytes(16)),
      room,
      sender: as,
      senderKey: key,
      timestamp: new Date().toISOString(),
      logHead: head.log_head as string,
    },
    content: { type: 'text', text },
    signingKey: signer,
  })
  const block = toBlock(envelope)
  return forgeRow(server, { room, kind: 'envelope', type: 'message', sender: as, text: block.text, cid: block.cid, content })
}

/** A log entry for `event`, linked after the room's head, appended with no check. */
async function forgedEntry(server: TestServer, event: UnsignedRoomEvent & { signature: string }) {
  const db = server.ctx.database.db
  const room = await db.selectFrom('rooms').selectAll().where('id', '=', event.room).executeTakeFirstOrThrow()
  const entry: LogEntry = { v: 1, room: room.id, seq: room.seq + 1, index: room.log_index + 1, prev: room.log_head, event }
  const block = toBlock(entry)
  const seq = await forgeRow(server, {
    room: room.id,
    kind: 'log',
    type: event.type,
    sender: event.actor,
    text: block.text,
    cid: block.cid,
  })
  await db
    .updateTable('rooms')
    .set({ log_index: entry.index, log_head: block.cid, log_head_seq: seq })
    .where('id', '=', room.id)
    .execute()
  server.ctx.roomCache.clear()
  return seq
}

async function wallets(
  server: TestServer,
  names: string[],
): Promise<Record<string, { client: Client; address: string; keyCid: string }>> {
  const out: Record<string, { client: Client; address: string; keyCid: string }> = {}
  for (const name of names) {
    const client = newClient(server.url, undefined, { node: true })
    const { address, cid } = await client.setup()
    out[name] = { client, address, keyCid: cid }
  }
  return out
}

/** The Ed25519 secret of a wallet's DMTP keys (what that member's own client holds). */
async function signingKeyOf(client: Client): Promise<Uint8Array> {
  const cid = client.state.currentCid as string
  return (await (client.state.ownKeys.get(cid) as Promise<{ ed25519: { secretKey: Uint8Array } }>)).ed25519.secretKey
}

describe.each(DIALECTS)('rooms against a hostile server (%s)', (dialect) => {
  // Under another member's name and key id, or by a wallet that never joined: shown as forgeries, never as messages.
  attack('a group message forged into the database', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const { alice, bob, mallory, eve } = await wallets(server, ['alice', 'bob', 'mallory', 'eve'])
    if (!alice || !bob || !mallory || !eve) throw new Error('no wallets')
    const { room } = await alice.client.rooms.create({ type: 'public', name: 'hostile' })
    await bob.client.rooms.join(room.id)
    await mallory.client.rooms.join(room.id)
    await alice.client.send(room.id, 'the real alice')
    const malloryKey = await signingKeyOf(mallory.client)

    // Mallory's words under alice's name and alice's key id: the signature is mallory's.
    await forgedMessage(server, room.id, {
      as: alice.address,
      key: alice.keyCid,
      signer: malloryKey,
      text: 'alice says: send me funds',
    })
    // Under alice's name with mallory's own key id: that key bundle belongs to mallory.
    await forgedMessage(server, room.id, {
      as: alice.address,
      key: mallory.keyCid,
      signer: malloryKey,
      text: 'alice, with my key',
    })
    // Eve never joined; her own valid signature does not make her a member.
    await forgedMessage(server, room.id, {
      as: eve.address,
      key: eve.keyCid,
      signer: await signingKeyOf(eve.client),
      text: 'an outsider',
    })

    const messages = (await bob.client.messages(room.id, { limit: 100 })).messages.filter((m) => m.type === 'message')
    expect(messages.map((m) => [m.text, m.status])).toEqual([
      ['the real alice', 'ok'],
      [null, 'invalid_signature'],
      [null, 'unknown_key'],
      [null, 'not_member'],
    ])
  })

  /** Alice's public room where Bob is muted for an hour, and a new member's view of it. */
  async function mutedRoom() {
    const server = await TestServer.create({ dialect })
    const { alice, bob } = await wallets(server, ['alice', 'bob'])
    if (!alice || !bob) throw new Error('no wallets')
    const { room } = await alice.client.rooms.create({ type: 'public', name: 'muted' })
    await bob.client.rooms.join(room.id)
    await alice.client.rooms.mute(room.id, [bob.address], { forMs: 3_600_000 })
    const seen = async () => {
      const client = newClient(server.url, undefined, { node: true })
      await client.setup()
      await client.rooms.join(room.id)
      return (await client.messages(room.id, { limit: 100 })).messages
    }
    return { server, alice, bob, room, seen }
  }

  attack("a muted member's message written into the database", 'at once', async () => {
    const { server, bob, room, seen } = await mutedRoom()
    await using _server = server
    await forgedMessage(server, room.id, {
      as: bob.address,
      key: bob.keyCid,
      signer: await signingKeyOf(bob.client),
      text: 'while muted',
    })
    expect((await seen()).find((m) => m.type === 'message')).toMatchObject({ text: null, status: 'muted' })
  })

  // Alice's mute event, appended a second time at a new position.
  attack('a group log event replayed into the database', 'at once', async () => {
    const { server, alice, room, seen } = await mutedRoom()
    await using _server = server
    const log = (await alice.client.rooms.log(room.id)).events
    const mute = log.find((e) => e.event.type === 'mute')
    if (!mute) throw new Error('no mute')
    await forgedEntry(server, mute.event)
    const replayed = (await seen()).filter((m) => m.event?.type === 'mute')
    expect(replayed.map((m) => m.status)).toEqual(['ok', 'invalid_log'])
    expect(replayed[1]?.problem).toContain('replays an earlier event')
  })

  /** Alice's public room with Bob and Mallory, and the base of an event signed now. */
  async function groupOfThree() {
    const server = await TestServer.create({ dialect })
    const { alice, bob, mallory } = await wallets(server, ['alice', 'bob', 'mallory'])
    if (!alice || !bob || !mallory) throw new Error('no wallets')
    const { room } = await alice.client.rooms.create({ type: 'public', name: 'log' })
    await bob.client.rooms.join(room.id)
    await mallory.client.rooms.join(room.id)
    const head = await server.ctx.database.db
      .selectFrom('rooms')
      .select('seq')
      .where('id', '=', room.id)
      .executeTakeFirstOrThrow()
    const base = {
      v: 1 as const,
      room: room.id,
      at: new Date().toISOString(),
      basis: head.seq,
      id: toBase64Url(crypto.randomBytes(16)),
    }
    return { server, alice, bob, mallory, room, base }
  }

  // Mallory, a member, makes Bob an Admin: a valid signature, an act her role does not allow.
  attack('a self-granted role written into the group log', 'at once', async () => {
    const { server, bob, mallory, room, base } = await groupOfThree()
    await using _server = server
    const promotion = await signRoomEvent(crypto, {
      event: {
        ...base,
        type: 'set_role',
        role: 'admin',
        members: [bob.address],
        actor: mallory.address,
        actorKey: mallory.keyCid,
      },
      signingKey: await signingKeyOf(mallory.client),
    })
    await forgedEntry(server, promotion)
    const { events } = await bob.client.rooms.log(room.id)
    expect(events.map((e) => [e.event.type, e.verified])).toEqual([
      ['create', true],
      ['join', true],
      ['join', true],
      ['set_role', false],
    ])
    const timeline = (await bob.client.messages(room.id, { limit: 100 })).messages
    expect(timeline.filter((m) => m.type === 'system').map((m) => m.status)).toEqual(['ok', 'ok', 'ok', 'invalid_log'])
    const members = await bob.client.rooms.members(room.id)
    expect(members.members.map((m) => [m.role, m.verified])).toEqual([
      ['owner', true],
      ['member', true],
      ['member', true],
    ])
  })

  // A kick "by Alice" signed with a key that is not Alice's.
  attack("a group event signed with a key not its actor's, written into the log", 'at once', async () => {
    const { server, alice, bob, room, base } = await groupOfThree()
    await using _server = server
    const stranger = await generateDmtpKeys(crypto)
    const kick = await signRoomEvent(crypto, {
      event: { ...base, type: 'kick', members: [bob.address], actor: alice.address, actorKey: alice.keyCid },
      signingKey: stranger.ed25519.secretKey,
    })
    await forgedEntry(server, kick)
    const { events } = await bob.client.rooms.log(room.id)
    expect(events.map((e) => [e.event.type, e.verified])).toEqual([
      ['create', true],
      ['join', true],
      ['join', true],
      ['kick', false],
    ])
    const timeline = (await bob.client.messages(room.id, { limit: 100 })).messages
    expect(timeline.filter((m) => m.type === 'system').map((m) => m.status)).toEqual(['ok', 'ok', 'ok', 'invalid_signature'])
    // Bob is still a member for his client: the forged kick did not count.
    expect((await bob.client.rooms.get(room.id)).membership.status).toBe('member')
  })

  // The members table edited (Mallory an owner) and a member row with no signed event behind it (Eve).
  attack('a group member row edited or injected', 'at once', async () => {
    const { server, alice, bob, mallory, room } = await groupOfThree()
    await using _server = server
    const { eve } = await wallets(server, ['eve'])
    if (!eve) throw new Error('no eve')
    const db = server.ctx.database.db
    await db
      .updateTable('room_members')
      .set({ role: 'owner' })
      .where('room_id', '=', room.id)
      .where('address', '=', mallory.address)
      .execute()
    const bobRow = await db
      .selectFrom('room_members')
      .selectAll()
      .where('room_id', '=', room.id)
      .where('address', '=', bob.address)
      .executeTakeFirstOrThrow()
    await db
      .insertInto('room_members')
      .values({ ...bobRow, address: eve.address })
      .execute()
    server.ctx.roomCache.clear()
    const members = await bob.client.rooms.members(room.id)
    const byAddress = (rows: [string, string, boolean][]) => rows.sort(([x], [y]) => x.localeCompare(y))
    expect(byAddress(members.members.map((m) => [m.address, m.role, m.verified]))).toEqual(
      byAddress([
        [alice.address, 'owner', true],
        [bob.address, 'member', true],
        [mallory.address, 'owner', false],
        [eve.address, 'member', false],
      ]),
    )
  })

  // Verify reports the order the chain anchored broken; recover rebuilds that order.
  attack(
    'anchored group messages reordered in the database',
    'on verify',
    async () => {
      await using server = await TestServer.create({ dialect, chain: true })
      const { alice, bob } = await wallets(server, ['alice', 'bob'])
      if (!alice || !bob) throw new Error('no wallets')
      const { room } = await alice.client.rooms.create({ type: 'public', name: 'reordered' })
      await bob.client.rooms.join(room.id)
      const sent = []
      for (const text of ['one', 'two', 'three']) sent.push(await alice.client.send(room.id, text))
      await server.ctx.anchoring.syncNow()
      const db = server.ctx.database.db
      const [first, last] = [sent[0]?.id as string, sent[2]?.id as string]
      const seqOf = async (id: string) =>
        (await db.selectFrom('messages').select('seq').where('id', '=', id).executeTakeFirstOrThrow()).seq
      const [a, b] = [await seqOf(first), await seqOf(last)]
      await db.updateTable('messages').set({ seq: -1 }).where('id', '=', first).execute()
      await db.updateTable('messages').set({ seq: a }).where('id', '=', last).execute()
      await db.updateTable('messages').set({ seq: b }).where('id', '=', first).execute()
      await server.restart()
      const fresh = newClient(server.url, bob.client.key, { node: true })
      const report = await fresh.verify({ room: room.id })
      expect(report.ok).toBe(false)
      expect(report.details.map((d) => d.reason)).toContain('served out of its anchored order')
      const recovered = await fresh.recover({ room: room.id })
      expect(recovered.messages.filter((m) => m.type === 'message').map((m) => m.text)).toEqual(['one', 'two', 'three'])
    },
    60_000,
  )

  test('default: a group history verifies against the chain and recovers from it', { timeout: 60_000 }, async () => {
    await using server = await TestServer.create({ dialect, chain: true })
    const { alice, bob } = await wallets(server, ['alice', 'bob'])
    if (!alice || !bob) throw new Error('no wallets')
    const { room } = await alice.client.rooms.create({ type: 'public', name: 'anchored' })
    await bob.client.rooms.join(room.id)
    const first = await alice.client.send(room.id, 'anchored hello')
    await bob.client.react(room.id, first.id, '👋')
    const gone = await bob.client.send(room.id, 'to be recalled')
    await bob.client.recall(room.id, gone.id)
    await server.ctx.anchoring.syncNow()
    await alice.client.send(room.id, 'after the sync')

    const report = await bob.client.verify({ room: room.id })
    expect(report).toMatchObject({ missing: 0, altered: 0, ok: true })
    expect(report.details.filter((d) => d.status === 'pending').map((d) => d.kind)).toEqual(['message'])
    // The recalled message's words are gone from the block store; its signed envelope is not.
    const recovered = await bob.client.recover({ room: room.id })
    expect(recovered.unavailable).toEqual([])
    const views = foldMessages(recovered.messages, { me: bob.address })
    expect(views.map((v) => [v.type, v.text ?? (v.recalled ? '(recalled)' : null), v.reactions.length])).toEqual([
      ['system', expect.stringContaining('created'), 0],
      ['system', expect.stringContaining('joined'), 0],
      ['message', 'anchored hello', 1],
      ['message', '(recalled)', 0],
    ])
  })
})
