/**
 * The chain is the user's (issue 16 item 4), from the CLI: the home pins the chain id and
 * registry of a server on first use, a server whose `/v1/info` later names another registry is
 * refused with `chain_changed` before anything is sent, and `verify --rpc` reads the pinned chain
 * through an RPC the user chose (without it, verify warns that the operator's RPC is the only one).
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { MitmProxy } from '../../sdk/test/_proxy.js'
import { json, newUser, TestServer } from './_util.js'

describe('the chain is the user’s, in the CLI (sqlite, anvil)', () => {
  test('behavior: the home pins the chain; another registry is chain_changed; verify --rpc uses the user RPC', async () => {
    await using proxy = await MitmProxy.create()
    await using server = await TestServer.create({
      chain: true,
      configure: (c) => {
        c.service.publicUrl = proxy.url
      },
    })
    proxy.target = server.server.port
    const chain = server.ctx.chain?.info
    if (!chain) throw new Error('no chain')
    const via = { url: proxy.url }
    const alice = newUser(via)
    const bob = newUser(via)
    expect((await alice.run(['setup'])).code).toBe(0)
    expect((await bob.run(['setup'])).code).toBe(0)
    expect((await alice.run(['send', '--to', bob.address, 'gm'])).code).toBe(0)
    const home = json(fs.readFileSync(path.join(alice.home, 'sessions.json'), 'utf8'))
    expect(JSON.parse(home[`dmtp:chain:${proxy.url}`])).toEqual({ chainId: chain.chainId, registry: chain.registry })

    await server.ctx.anchoring.syncNow()
    for (
      let i = 0;
      i < 200 && ((await server.ctx.chain?.keyOf(alice.address)) === '' || (await server.ctx.chain?.keyOf(bob.address)) === '');
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const operatorOnly = await alice.run(['verify'])
    expect(operatorOnly.code).toBe(0)
    expect(operatorOnly.stdout).toContain('warning  operator_rpc')
    // The user's own endpoint to the chain (another URL than the one the server names).
    const userRpc = chain.rpcUrl.replace('127.0.0.1', 'localhost')
    expect(userRpc).not.toBe(chain.rpcUrl)
    const own = await alice.run(['verify', '--rpc', userRpc, '--json'])
    expect(own.code).toBe(0)
    expect(json(own.stdout)).toMatchObject({ ok: true, chain: { source: 'user', rpcUrl: userRpc }, warnings: [] })

    // The server now names a registry it deployed itself: refused, and nothing is sent.
    proxy.rewriteJson = (p, body) =>
      p === '/v1/info' ? { ...body, chain: { ...body.chain, registry: '0x000000000000000000000000000000000000dEaD' } } : body
    const before = await server.ctx.database.db.selectFrom('messages').select('id').execute()
    const refused = await alice.run(['send', '--to', bob.address, 'to a chain of its own?', '--json'])
    expect(refused.code).not.toBe(0)
    expect(json(refused.stderr).error.code).toBe('chain_changed')
    expect(await server.ctx.database.db.selectFrom('messages').select('id').execute()).toHaveLength(before.length)
  })
})
