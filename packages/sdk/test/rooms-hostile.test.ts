/**
 * A server that writes its database by hand cannot make a group message appear from someone
 * else, nor make members or roles appear: the forged rows below bypass every server check, and
 * the receiving client refuses each (as a status, never as a message). And a group's history
 * verifies against the chain and recovers from it, as a 1:1 conversation's does.
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
import { foldMessages } from '../src/index.js'
import { DIALECTS, newClient, TestServer } from './_util.js'

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
  test('default: messages forged into the database show as forgeries, never as messages', async () => {
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

  test('behavior: a muted member’s message and a replayed event are refused by the client too', async () => {
    await using server = await TestServer.create({ dialect })
    const { alice, bob } = await wallets(server, ['alice', 'bob'])
    if (!alice || !bob) throw new Error('no wallets')
    const { room } = await alice.client.rooms.create({ type: 'public', name: 'muted' })
    await bob.client.rooms.join(room.id)
    await alice.client.rooms.mute(room.id, [bob.address], { forMs: 3_600_000 })
    await forgedMessage(server, room.id, {
      as: bob.address,
      key: bob.keyCid,
      signer: await signingKeyOf(bob.client),
      text: 'while muted',
    })
    // Alice's mute event, appended a second time at a new position.
    const log = (await alice.client.rooms.log(room.id)).events
    const mute = log.find((e) => e.event.type === 'mute')
    if (!mute) throw new Error('no mute')
    await forgedEntry(server, mute.event)

    const seen = newClient(server.url, undefined, { node: true })
    await seen.setup()
    await seen.rooms.join(room.id)
    const messages = (await seen.messages(room.id, { limit: 100 })).messages
    expect(messages.find((m) => m.type === 'message')).toMatchObject({ text: null, status: 'muted' })
    const replayed = messages.filter((m) => m.event?.type === 'mute')
    expect(replayed.map((m) => m.status)).toEqual(['ok', 'invalid_log'])
    expect(replayed[1]?.problem).toContain('replays an earlier event')
  })

  test('behavior: membership the log does not prove is flagged: a forged entry, a self-promotion, a row edited', async () => {
    await using server = await TestServer.create({ dialect })
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
    const base = { v: 1 as const, room: room.id, at: new Date().toISOString(), basis: head.seq }
    // Mallory, a member, makes herself an Admin: a valid signature, a forbidden act.
    const promotion = await signRoomEvent(crypto, {
      event: {
        ...base,
        id: toBase64Url(crypto.randomBytes(16)),
        type: 'set_role',
        role: 'admin',
        members: [bob.address],
        actor: mallory.address,
        actorKey: mallory.keyCid,
      },
      signingKey: await signingKeyOf(mallory.client),
    })
    await forgedEntry(server, promotion)
    // A kick "by alice" signed with a key that is not alice's.
    const stranger = await generateDmtpKeys(crypto)
    const kick = await signRoomEvent(crypto, {
      event: {
        ...base,
        id: toBase64Url(crypto.randomBytes(16)),
        type: 'kick',
        members: [bob.address],
        actor: alice.address,
        actorKey: alice.keyCid,
      },
      signingKey: stranger.ed25519.secretKey,
    })
    await forgedEntry(server, kick)
    // And the members table says mallory is an owner.
    await server.ctx.database.db
      .updateTable('room_members')
      .set({ role: 'owner' })
      .where('room_id', '=', room.id)
      .where('address', '=', mallory.address)
      .execute()
    server.ctx.roomCache.clear()

    const { events } = await bob.client.rooms.log(room.id)
    expect(events.map((e) => [e.event.type, e.verified])).toEqual([
      ['create', true],
      ['join', true],
      ['join', true],
      ['set_role', false],
      ['kick', false],
    ])
    const timeline = (await bob.client.messages(room.id, { limit: 100 })).messages
    expect(timeline.filter((m) => m.type === 'system').map((m) => m.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'invalid_log',
      'invalid_signature',
    ])
    const members = await bob.client.rooms.members(room.id)
    expect(members.members.map((m) => [m.role, m.verified])).toEqual([
      ['owner', true],
      ['member', true],
      ['owner', false],
    ])
    // Bob is still a member for his client: the forged kick did not count.
    expect((await bob.client.rooms.get(room.id)).membership.status).toBe('member')
  })

  test('behavior: a group history verifies against the chain and recovers from it', { timeout: 60_000 }, async () => {
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
