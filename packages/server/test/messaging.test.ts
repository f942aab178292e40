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

    const inbox = await api(server.url, 'GET', '/v1/inbox', { token: bob.token })
    expect(inbox.body.entries.map((e: any) => e.cursor)).toEqual([1, 2])
    expect(inbox.body.latest).toBe(2)

    const conversations = await api(server.url, 'GET', '/v1/conversations', { token: alice.token })
    expect(conversations.body.conversations).toHaveLength(1)
    expect(conversations.body.conversations[0]).toMatchObject({ peer: bob.address, messageCount: 2, unread: 1 })
  })
})
