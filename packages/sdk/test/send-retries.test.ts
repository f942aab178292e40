/**
 * Retries return the original answer (issue 16, items 2 and 16): an app that calls `send()` again
 * with the same `clientMessageId` after a lost answer never stores a second copy, in a 1:1 room,
 * in a public room, from a fresh process, and for a relayed (pattern β) message whose receiver
 * set up and migrated it in between.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { newClient, TestServer } from './_util.js'

async function countRows(server: TestServer, room: string): Promise<number> {
  const rows = await server.ctx.database.db
    .selectFrom('messages')
    .select('id')
    .where('room_id', '=', room)
    .where('kind', '=', 'envelope')
    .execute()
  return rows.length
}

describe('send retries (sqlite)', () => {
  test('security: the same clientMessageId twice stores one message and answers the first result', async () => {
    await using server = await TestServer.create()
    const alice = newClient(server.url, undefined, { node: true })
    const bob = newClient(server.url, undefined, { node: true })
    await Promise.all([alice.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address

    const first = await alice.send(bobAddress, 'pay me 10', { clientMessageId: 'bubble-1' })
    const retry = await alice.send(bobAddress, 'pay me 10', { clientMessageId: 'bubble-1' })
    expect(retry).toMatchObject({ id: first.id, cid: first.cid, seq: first.seq, room: first.room })
    // Without the id, the same text is a second message (the control: the count can grow).
    await alice.send(bobAddress, 'pay me 10')
    expect(await countRows(server, first.room)).toBe(2)
    const page = await bob.messages(first.room)
    expect(page.messages.filter((m) => m.text === 'pay me 10')).toHaveLength(2)

    // A fresh process (its envelope differs) meets the first one's id: refused, nothing stored.
    const aliceAgain = newClient(server.url, alice.key, { node: true })
    await expect(aliceAgain.send(bobAddress, 'pay me 10', { clientMessageId: 'bubble-1' })).rejects.toMatchObject({
      code: 'message_id_conflict',
    })
    expect(await countRows(server, first.room)).toBe(2)
    // Another wallet's same clientMessageId is its own message.
    const fromBob = await bob.send((await alice.getWallet()).address, 'ok', { clientMessageId: 'bubble-1' })
    expect(fromBob.id).not.toBe(first.id)
  })

  test('security: a retry in a public room returns the first result', async () => {
    await using server = await TestServer.create()
    const alice = newClient(server.url, undefined, { node: true })
    await alice.setup()
    const { room } = await alice.rooms.create({ type: 'public', name: 'retries' })
    const first = await alice.send(room.id, 'gm', { clientMessageId: 'c-1' })
    const retry = await alice.send(room.id, 'gm', { clientMessageId: 'c-1' })
    expect(retry).toMatchObject({ id: first.id, cid: first.cid, seq: first.seq })
    expect(await countRows(server, room.id)).toBe(1)
  })

  test('security: resending a relayed message after the receiver migrated it returns the first result, not 409', async () => {
    await using server = await TestServer.create({ chain: true })
    const alice = newClient(server.url, undefined, { node: true })
    await alice.setup()
    const bobKey = generatePrivateKey()
    const bobAddress = privateKeyToAccount(bobKey).address

    const first = await alice.send(bobAddress, 'welcome', { clientMessageId: 'relay-1' })
    expect(first.e2ee).toBe(false)
    const bob = newClient(server.url, bobKey, { node: true })
    await bob.setup()
    expect((await bob.messages(first.room)).messages.map((m) => [m.text, m.e2ee])).toEqual([['welcome', true]])

    const retry = await alice.send(bobAddress, 'welcome', { clientMessageId: 'relay-1' })
    expect(retry).toMatchObject({ id: first.id, cid: first.cid, seq: first.seq, e2ee: false })
    expect(await countRows(server, first.room)).toBe(1)
    expect((await bob.messages(first.room)).messages.map((m) => m.text)).toEqual(['welcome'])
  })

  test('bad input: an empty or over-long clientMessageId is refused before anything is sent', async () => {
    await using server = await TestServer.create()
    const alice = newClient(server.url, undefined, { node: true })
    await alice.setup()
    const { room } = await alice.rooms.create({ type: 'public', name: 'ids' })
    await expect(alice.send(room.id, 'x', { clientMessageId: '' })).rejects.toThrow(TypeError)
    await expect(alice.send(room.id, 'x', { clientMessageId: 'x'.repeat(201) })).rejects.toThrow(TypeError)
    expect(await countRows(server, room.id)).toBe(0)
  })
})
