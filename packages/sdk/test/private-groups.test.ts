/**
 * Private groups with end-to-end encryption, end to end with real clients on a real server
 * (docs/private-groups.md): room keys made by members, wrapped to each member the signed log
 * shows, rotated before the next message after a leave, kick, ban or join, by age and by count;
 * racing rotations yield one epoch; an offline member catches up; E2EE turned on and off by
 * permission; and the server never holds a key or a word of plaintext. What a hostile server can
 * try with keys: hostile/private-groups-hostile.test.ts.
 */
import fs from 'node:fs'
import path from 'node:path'
import { ApiError, GROUP_SUITE, sealGroupEnvelope } from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { currentKeys } from '../src/_keyring.js'
import { keyRing } from '../src/_room-keys.js'
import { roomLog } from '../src/_room-log.js'
import { authedRequest } from '../src/_session.js'
import { collect, DIALECTS, messagesOf, newClient, TestServer } from './_util.js'

type Client = ReturnType<typeof newClient>

async function addressOf(client: Client) {
  return (await client.getWallet()).address
}

/** A private room of `owner` with `members` invited and joined. */
async function privateRoom(owner: Client, members: Client[], options: { plain?: boolean } = {}) {
  const { room } = await owner.rooms.create({ type: 'private', name: 'core team', ...options })
  for (const member of members) {
    await owner.rooms.invite(room.id, [await addressOf(member)])
    await member.rooms.join(room.id)
  }
  return room.id
}

async function texts(client: Client, room: string) {
  const page = await client.messages(room, { limit: 100 })
  return page.messages.filter((m) => m.type === 'message').map((m) => [m.text, m.status, m.e2ee])
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof ApiError ? { code: error.code, details: error.data } : error),
  )

describe.each(DIALECTS)('private groups (%s)', (dialect) => {
  test('default: E2EE from the first message; invite, join, key; every member reads, the server cannot', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol] = [newClient(server.url), newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob, carol]) await client.setup()
    const room = await privateRoom(alice, [bob, carol])
    expect((await alice.rooms.get(room)).room.encryption).toMatchObject({ e2ee: true, epoch: 1 })

    // Two joins since epoch 1: the first sender rotates before sending (new members read from here).
    const sent = await bob.send(room, 'the launch is on friday')
    expect(sent).toMatchObject({ e2ee: true })
    const keys = await alice.rooms.keys(room)
    expect(keys.encryption).toMatchObject({ e2ee: true, epoch: 2, due: null })
    await alice.send(room, 'friday it is')
    for (const reader of [alice, bob, carol]) {
      expect(await texts(reader, room)).toEqual([
        ['the launch is on friday', 'ok', true],
        ['friday it is', 'ok', true],
      ])
    }
    // Carol was not a member at epoch 1: she holds epoch 2 only.
    expect((await carol.rooms.keys(room)).epochs).toEqual([2])

    // Not one word in the database, the blocks or the log.
    const grep = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.join(dir, entry.name)
        if (entry.isDirectory()) return grep(file)
        return fs.readFileSync(file).includes('friday') ? [file] : []
      })
    expect(grep(server.options.dataDir)).toEqual([])
    expect(server.logs.join('\n')).not.toContain('friday')
    const db = server.ctx.database.db
    const rows = await db.selectFrom('messages').select(['envelope', 'content']).where('room_id', '=', room).execute()
    expect(rows.some((row) => `${row.envelope}${row.content}`.includes('friday'))).toBe(false)
  })

  test('behavior: a kick, leave or ban makes the room due; the first message after it is under the new epoch; the removed member gets no later key', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol, dave] = [newClient(server.url), newClient(server.url), newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob, carol, dave]) await client.setup()
    const room = await privateRoom(alice, [bob, carol, dave])
    await alice.send(room, 'before')
    const before = (await alice.rooms.keys(room)).encryption.epoch
    const carolAddress = await addressOf(carol)

    for (const [remove, cause] of [
      [() => alice.rooms.kick(room, [carolAddress]), 'kick'],
      [() => dave.rooms.leave(room), 'leave'],
    ] as const) {
      await remove()
      expect((await alice.rooms.keys(room)).encryption.due).toBe(cause)
      const after = await bob.send(room, `after the ${cause}`)
      const stored = await server.ctx.database.db
        .selectFrom('messages')
        .select('envelope')
        .where('id', '=', after.id)
        .executeTakeFirstOrThrow()
      expect(JSON.parse(stored.envelope).epoch).toBeGreaterThan(before)
    }
    // The removed member, with its real keys against the real server: no key, no room.
    expect(await refusal(carol.rooms.keys(room))).toMatchObject({ code: 'room_not_found' })
    const carolRows = await server.ctx.database.db
      .selectFrom('room_key_deliveries')
      .select('epoch')
      .where('room_id', '=', room)
      .where('recipient', '=', carolAddress)
      .execute()
    expect(Math.max(...carolRows.map((row) => row.epoch))).toBe(before)
    // Even handed every stored message, carol's keys open none sent after she left.
    keyRing(carol, room).encryption = undefined
    const carolKeys = keyRing(carol, room).keys
    const epochs = await server.ctx.database.db.selectFrom('messages').select('envelope').where('room_id', '=', room).execute()
    const later = epochs.map((row) => JSON.parse(row.envelope)).filter((e) => e.suite === GROUP_SUITE && e.epoch > before)
    expect(later.length).toBeGreaterThan(0)
    for (const envelope of later) expect(carolKeys.has(envelope.epoch)).toBe(false)
    expect(await texts(bob, room)).toEqual([
      ['before', 'ok', true],
      ['after the kick', 'ok', true],
      ['after the leave', 'ok', true],
    ])

    // A ban too.
    await alice.rooms.ban(room, [await addressOf(bob)])
    expect((await alice.rooms.keys(room)).encryption.due).toBe('ban')
  })

  test('behavior: two racing rotations yield one epoch, and both sides hold its key', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const room = await privateRoom(alice, [bob])
    const start = (await alice.rooms.keys(room)).encryption.epoch
    await bob.rooms.keys(room)
    const [a, b] = await Promise.all([alice.rooms.rotateKey(room), bob.rooms.rotateKey(room)])
    // One of them wins; the other adopts its key (or, having lost, rotates once more on top).
    const final = (await alice.rooms.keys(room)).encryption
    expect(final.epoch - start).toBeGreaterThanOrEqual(1)
    expect([a.epoch, b.epoch]).toContain(start + 1)
    const epochRows = await server.ctx.database.db.selectFrom('room_epochs').select('epoch').where('room_id', '=', room).execute()
    expect(new Set(epochRows.map((row) => row.epoch)).size).toBe(epochRows.length)
    const aliceKey = keyRing(alice, room).keys.get(start + 1)
    const bobKey = (await bob.rooms.keys(room)) && keyRing(bob, room).keys.get(start + 1)
    expect(aliceKey?.keyId).toBeDefined()
    expect(aliceKey?.keyId).toBe(bobKey?.keyId)
  })

  test('behavior: a member offline through two rotations catches up with every epoch', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const room = await privateRoom(alice, [bob])
    await alice.send(room, 'one')
    await alice.rooms.rotateKey(room)
    await alice.send(room, 'two')
    await alice.rooms.rotateKey(room)
    await alice.send(room, 'three')
    expect(await texts(bob, room)).toEqual([
      ['one', 'ok', true],
      ['two', 'ok', true],
      ['three', 'ok', true],
    ])
    const { epochs } = await bob.rooms.keys(room)
    expect(epochs.length).toBeGreaterThanOrEqual(3)
  })

  test('behavior: rotation after the age and message-count limits', async () => {
    await using server = await TestServer.create({
      dialect,
      configure: (config) => {
        config.limits.rotation = { afterMessages: 3, afterSeconds: 2 }
      },
    })
    const alice = newClient(server.url)
    await alice.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'solo' })
    for (const text of ['a', 'b', 'c']) await alice.send(room.id, text)
    expect((await alice.rooms.keys(room.id)).encryption.epoch).toBe(1)
    await alice.send(room.id, 'd')
    expect((await alice.rooms.keys(room.id)).encryption.epoch).toBe(2)
    await new Promise((resolve) => setTimeout(resolve, 2_100))
    await alice.send(room.id, 'e')
    expect((await alice.rooms.keys(room.id)).encryption.epoch).toBe(3)
    expect((await texts(alice, room.id)).map(([text]) => text)).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  test('security: the server refuses a message under a stale epoch, saying what to rotate from', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const room = await privateRoom(alice, [bob])
    await alice.send(room, 'hello')
    const oldKey = keyRing(alice, room).keys.get((await alice.rooms.keys(room)).encryption.epoch)
    if (!oldKey) throw new Error('alice holds the current key')
    await bob.rooms.rotateKey(room)
    const crypto = await alice.getCrypto()
    const own = await currentKeys(alice)
    const head = roomLog(alice, room).head
    const envelope = await sealGroupEnvelope(crypto, {
      header: {
        v: 1,
        suite: GROUP_SUITE,
        id: 'AAAAAAAAAAAAAAAAAAAAAA',
        room,
        epoch: oldKey.epoch,
        sender: await addressOf(alice),
        senderKey: own.cid,
        timestamp: new Date().toISOString(),
        logHead: head?.cid as string,
      },
      content: { type: 'text', text: 'under the old key' },
      roomKey: oldKey,
      signingKey: own.keys.ed25519.secretKey,
    })
    const refused = await refusal(authedRequest(alice, { method: 'POST', path: '/v1/messages', body: { envelope } }))
    expect(refused).toMatchObject({ code: 'stale_epoch', details: { epoch: oldKey.epoch + 1, due: null } })
  })

  test('security: E2EE on and off by permission; plaintext refused while on, encryption refused while off', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'plain first', e2ee: false })
    await alice.rooms.invite(room.id, [await addressOf(bob)])
    await bob.rooms.join(room.id)
    // A Member holds neither e2ee_on nor e2ee_off.
    expect(await refusal(bob.rooms.setEncryption(room.id, true))).toMatchObject({ code: 'forbidden' })
    expect(await bob.send(room.id, 'in the clear')).toMatchObject({ e2ee: false })
    const on = await alice.rooms.setEncryption(room.id, true)
    expect(on).toMatchObject({ e2ee: true, epoch: 1, due: null })
    expect(await bob.send(room.id, 'now secret')).toMatchObject({ e2ee: true })
    expect(await refusal(bob.send(room.id, 'sneaky plaintext', { plain: true }))).toMatchObject({ code: 'e2ee_required' })
    expect(await refusal(bob.rooms.setEncryption(room.id, false))).toMatchObject({ code: 'forbidden' })
    await alice.rooms.setEncryption(room.id, false)
    // Bob's client still thinks E2EE is on: the server refuses the encrypted send, the SDK sends it signed.
    expect(await bob.send(room.id, 'clear again')).toMatchObject({ e2ee: false })
    const timeline = await alice.messages(room.id, { limit: 100 })
    expect(timeline.messages.map((m) => (m.type === 'system' ? m.text?.replace(/^0x\S+ /, '') : [m.text, m.e2ee]))).toEqual([
      expect.stringContaining('created the private group'),
      expect.stringContaining('invited'),
      'joined',
      ['in the clear', false],
      'turned on end-to-end encryption',
      ['now secret', true],
      'turned off end-to-end encryption: new messages can be read by the server',
      ['clear again', false],
    ])
  })

  test('behavior: a room that allows the per-message choice takes plaintext, marked so', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const room = await privateRoom(alice, [bob], { plain: true })
    await bob.send(room, 'secret')
    await bob.send(room, 'public notice', { plain: true })
    expect(await texts(alice, room)).toEqual([
      ['secret', 'ok', true],
      ['public notice', 'ok', false],
    ])
  })

  test('behavior: the live stream shows encrypted messages decrypted, each marked end to end', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const room = await privateRoom(alice, [bob])
    const live = bob.stream()
    await collect(live, (events) => events.some((e) => e.type === 'caught_up'))
    await alice.send(room, 'live and secret')
    const seen = messagesOf(await collect(live, (events) => messagesOf(events).some((m) => m.text === 'live and secret')))
    expect(seen.filter((m) => m.type === 'message').map((m) => [m.text, m.e2ee, m.status])).toEqual([
      ['live and secret', true, 'ok'],
    ])
    await live.return?.(undefined)
  })
})
