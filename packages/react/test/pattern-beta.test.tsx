// @vitest-environment node
/**
 * Pattern β through the hooks: a message to a wallet that has not set up goes through the server's
 * key (the sender is told), and becomes end-to-end in both views, in place, once the receiver
 * connects. Needs the embedded chain (the server's key is checked against the registry).
 */
import './_dom.js'
import { describe, expect, test } from 'vitest'
import { connect, renderApp, TestServer, texts, until, wallet } from './_util.js'

describe('pattern β (sqlite, anvil)', () => {
  test('default: relayed with e2ee false and a notice, then migrated in place', async () => {
    await using server = await TestServer.create({ chain: true })
    const aliceWallet = wallet(server.url)
    const bobWallet = wallet(server.url)
    const alice = renderApp(aliceWallet, bobWallet.address)
    await connect(alice)

    const first = await alice.result.current.send('before you set up', bobWallet.address)
    const second = await alice.result.current.send('this one too', bobWallet.address)
    expect(first).toMatchObject({ e2ee: false, notice: expect.stringContaining('has not set up DMTP yet') })
    expect(alice.sent).toEqual([first, second])
    await until(() => texts(alice).length === 2)
    expect(alice.result.current.chat.messages.map((m) => [m.text, m.e2ee])).toEqual([
      ['before you set up', false],
      ['this one too', false],
    ])

    // Bob connects: setup makes the relayed messages end-to-end before his views load.
    const bob = renderApp(bobWallet, aliceWallet.address)
    await connect(bob)
    expect(bob.result.current.connect.migration).toEqual({ done: 2, total: 2 })
    await until(() => texts(bob).length === 2)
    expect(bob.result.current.chat.messages.map((m) => [m.id, m.text, m.e2ee, m.status])).toEqual([
      [first.id, 'before you set up', true, 'ok'],
      [second.id, 'this one too', true, 'ok'],
    ])

    // Bob's first reply tells alice's view that he set up: her copies update in place, same ids.
    await bob.result.current.send('got them, end to end now', aliceWallet.address)
    await until(() => texts(alice).length === 3 && alice.result.current.chat.messages.every((m) => m.e2ee))
    expect(alice.result.current.chat.messages.map((m) => [m.id, m.text, m.e2ee, m.status])).toEqual([
      [first.id, 'before you set up', true, 'ok'],
      [second.id, 'this one too', true, 'ok'],
      [expect.any(String), 'got them, end to end now', true, 'ok'],
    ])
    alice.unmount()
    bob.unmount()
  }, 60_000)
})
