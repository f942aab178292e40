// @vitest-environment node
/**
 * `useMessages` tells a chat view what the server withholds: a room's positions are gapless, so a
 * position missing from the history it loads is reported in `gaps` (the row is deleted behind the
 * real server's back), and the messages around it are still shown.
 */
import './_dom.js'
import { describe, expect, test } from 'vitest'
import { connect, DIALECTS, renderApp, sdkUser, TestServer, texts, until, wallet } from './_util.js'

describe.each(DIALECTS)('useMessages gaps (%s)', (dialect) => {
  test('behavior: a position missing from history is reported in gaps', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await sdkUser(server.url)
    const bobWallet = wallet(server.url)
    const bob = renderApp(bobWallet)
    await connect(bob)
    const sent = []
    for (const text of ['h0', 'h1', 'h2']) sent.push(await alice.send(bobWallet.address, text))
    await server.ctx.database.db
      .deleteFrom('messages')
      .where('id', '=', sent[1]?.id as string)
      .execute()

    bob.rerender({ peer: alice.address })
    await until(() => texts(bob).length === 2 && !bob.result.current.chat.isLoading)
    expect(texts(bob)).toEqual(['h0', 'h2'])
    expect(bob.result.current.chat.gaps).toEqual([{ after: 1, before: 3 }])

    await alice.send(bobWallet.address, 'h3')
    await until(() => texts(bob).length === 3)
    expect(bob.result.current.chat.gaps).toEqual([{ after: 1, before: 3 }])
    bob.unmount()
  })
})
