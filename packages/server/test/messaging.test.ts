import { describe, expect, test } from 'vitest'
import { DIALECTS, TestServer } from './_util.js'
import { api, TestWallet } from './_wallet.js'

describe.each(DIALECTS)('messaging (%s)', (dialect) => {
  test('default: two wallets set up, exchange messages, read history and inbox', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()

    const first = await alice.send(bob, 'hello bob')
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ seq: 1, e2ee: true })
    const second = await bob.send(alice, 'hi alice')
    expect(second.body).toMatchObject({ seq: 2, room: first.body.room })

    const history = await api(server.url, 'GET', `/v1/rooms/${first.body.room}/messages`, { token: bob.token })
    expect(history.status).toBe(200)
    expect(history.body.messages.map((m: any) => m.envelope.sender)).toEqual([alice.address, bob.address])

    // Inbox cursors are server-wide stream positions: increasing in send order, not 1, 2 per user.
    const inbox = await api(server.url, 'GET', '/v1/inbox', { token: bob.token })
    expect(inbox.body.entries.map((e: any) => e.message.envelope.id)).toEqual([first.body.id, second.body.id])
    const [one, two] = inbox.body.entries.map((e: any) => e.cursor)
    expect(two).toBeGreaterThan(one)
    expect(inbox.body.latest).toBe(two)

    const rooms = await api(server.url, 'GET', '/v1/rooms', { token: alice.token })
    expect(rooms.status).toBe(200)
    expect(rooms.body.rooms).toHaveLength(1)
    expect(rooms.body.rooms[0]).toMatchObject({
      room: { id: first.body.room, type: 'p2p', messageCount: 2 },
      peer: bob.address,
      unread: 1,
      lastMessage: { envelope: { id: second.body.id } },
    })
  })
})
