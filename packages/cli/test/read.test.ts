import { createClient, privateKeyWallet } from '@dmtp/sdk'
import { describe, expect, test } from 'vitest'
import { CLIENT_DIALECTS, json, newUser, setUp, TestServer } from './_util.js'

describe.each(CLIENT_DIALECTS)('dmtp read (%s)', (dialect) => {
  test('behavior: --limit keeps the newest messages, though other rooms take stream positions in between', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const bob = newUser(server)
    await alice.run(['setup'])
    await bob.run(['setup'])
    // Stream cursors are server-wide: carol's messages to dave leave gaps in bob's.
    const [carol, dave] = [newUser(server), newUser(server)]
    await setUp(server, carol, dave)
    const carolSdk = createClient({ server: server.url, wallet: privateKeyWallet(carol.key) })
    for (const text of ['one', 'two', 'three']) {
      await alice.run(['send', '--to', bob.address, text])
      for (let i = 0; i < 3; i++) await carolSdk.send(dave.address, `not for bob ${i}`)
    }
    const texts = async (args: string[]) => json((await bob.run([...args, '--json'])).stdout).map((m: { text: string }) => m.text)
    expect(await texts(['read', '--with', alice.address, '--limit', '2'])).toEqual(['two', 'three'])
    expect(await texts(['read', '--limit', '1'])).toEqual(['three'])
    expect(await texts(['read', '--limit', '10'])).toEqual(['one', 'two', 'three'])
  })

  test('behavior: a message that fails verification is marked, never shown', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const bob = newUser(server)
    await alice.run(['setup'])
    await bob.run(['setup'])
    await alice.run(['send', '--to', bob.address, 'original'])
    // A server that rewrites a stored message: the CID no longer matches.
    const db = server.ctx.database.db
    const stored = await db.selectFrom('messages').select(['id', 'envelope']).executeTakeFirstOrThrow()
    const envelope = { ...json(stored.envelope), timestamp: new Date(Date.now() - 1000).toISOString() }
    await db
      .updateTable('messages')
      .set({ envelope: JSON.stringify(envelope) })
      .where('id', '=', stored.id)
      .execute()

    const read = await bob.run(['read', '--with', alice.address, '--json'])
    expect(json(read.stdout)).toEqual([expect.objectContaining({ text: null, status: 'altered' })])
    const human = await bob.run(['read'])
    expect(human.stdout).toMatch(/: ⚠ unreadable: altered after it was sent \(altered\)\n$/)
    expect(human.stdout).not.toContain('original')
  })

  test('behavior: read --follow --json streams new messages as NDJSON, across a server restart', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const bob = newUser(server)
    await alice.run(['setup'])
    await bob.run(['setup'])
    await alice.run(['send', '--to', bob.address, 'before'])

    const follow = bob.start(['read', '--follow', '--json'])
    await follow.waitFor('stderr', /following new messages/)
    await alice.run(['send', '--to', bob.address, 'live 1'])
    await follow.waitFor('stdout', /live 1/)

    await server.restart()
    await follow.waitFor('stderr', /connection lost/)
    await alice.run(['send', '--to', bob.address, 'live 2'])
    await follow.waitFor('stdout', /live 2/, 20_000)
    expect(follow.stderr).toMatch(/reconnected/)

    expect(await follow.stop('SIGINT')).toBe(0)
    const lines = follow.stdout
      .trim()
      .split('\n')
      .map(json<{ text: string; e2ee: boolean }>)
    expect(lines.map((line) => line.text)).toEqual(['before', 'live 1', 'live 2'])
    expect(lines.every((line) => line.e2ee)).toBe(true)
  })

  test('behavior: read --with --follow shows only that conversation', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol] = [newUser(server), newUser(server), newUser(server)]
    for (const user of [alice, bob, carol]) await user.run(['setup'])

    const follow = bob.start(['read', '--with', alice.address, '--follow'])
    await follow.waitFor('stderr', /following new messages/)
    await carol.run(['send', '--to', bob.address, 'from carol'])
    await alice.run(['send', '--to', bob.address, 'from alice'])
    await follow.waitFor('stdout', /from alice/)
    expect(await follow.stop('SIGTERM')).toBe(0)
    expect(follow.stdout).not.toContain('from carol')
  })
})
