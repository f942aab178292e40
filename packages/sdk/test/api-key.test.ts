/**
 * `createClient({ apiKey })`: a dApp's key rides on every API call and on the stream, so the
 * server's checks apply to it: a valid key works end to end, a revoked or unknown one is refused
 * with its code (and a refused setup stores nothing), and the key's rate limit holds.
 */
import { generatePrivateKey } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { createClient, privateKeyWallet } from '../src/index.js'
import { collect, DIALECTS, messagesOf, TestServer } from './_util.js'

const clientWithKey = (server: TestServer, apiKey: string) =>
  createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()), apiKey })

describe.each(DIALECTS)('sdk with an API key (%s)', (dialect) => {
  test('default: setup, send and stream carry the key; once revoked, the same client is refused', async () => {
    await using server = await TestServer.create({ dialect })
    const { id, key } = await server.ctx.apiKeys.create({ name: 'chat dApp', owner: null })
    const alice = clientWithKey(server, key)
    const bob = clientWithKey(server, key)
    await alice.setup()
    await bob.setup()
    const bobAddress = (await bob.getWallet()).address

    const stream = bob.stream()
    await collect(stream, (events) => events.some((event) => event.type === 'connected'))
    await alice.send(bobAddress, 'through a dApp')
    const events = await collect(stream, (seen) => messagesOf(seen).length === 1)
    expect(messagesOf(events)[0]).toMatchObject({ text: 'through a dApp', status: 'ok' })
    stream.close()

    await server.ctx.apiKeys.revoke(id)
    await expect(alice.send(bobAddress, 'after revocation')).rejects.toMatchObject({ code: 'api_key_revoked' })
    await expect(bob.conversations()).rejects.toMatchObject({ code: 'api_key_revoked' })
    // The stream upgrade is refused too: the client reports it and keeps retrying, never connects.
    const refused = bob.stream()
    const [first] = await collect(refused, (seen) => seen.length > 0)
    expect(first).toMatchObject({ type: 'disconnected' })
    refused.close()
  })

  test('behavior: an unknown key is refused at setup and nothing is stored', async () => {
    await using server = await TestServer.create({ dialect })
    const forged = `dmtp_${Buffer.alloc(32, 7).toString('base64url')}`
    const bundles = async () => {
      const row = await server.ctx.database.db
        .selectFrom('key_bundles')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
      return Number(row.n)
    }
    const before = await bundles()
    const client = clientWithKey(server, forged)
    await expect(client.setup()).rejects.toMatchObject({ code: 'invalid_api_key' })
    const address = (await client.getWallet()).address
    expect((await fetch(`${server.url}/v1/keys/${address}`)).status).toBe(404)
    expect(await bundles()).toBe(before)
  })

  test('behavior: a key over its per-minute rate gets rate_limited; a client without a key is unaffected', async () => {
    await using server = await TestServer.create({ dialect })
    const { key } = await server.ctx.apiKeys.create({ name: 'tiny', owner: null, rateLimitPerMinute: 4 })
    const client = clientWithKey(server, key)
    const outcomes: string[] = []
    for (let i = 0; i < 6; i++) {
      outcomes.push(
        await fetch(`${server.url}/v1/auth/nonce`, { method: 'POST', headers: { 'x-dmtp-api-key': key } }).then(async (r) =>
          r.ok ? 'ok' : (await r.json()).error.code,
        ),
      )
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'rate_limited', 'rate_limited'])
    await expect(client.setup()).rejects.toMatchObject({ code: 'rate_limited' })
    const keyless = createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()) })
    await expect(keyless.setup()).resolves.toMatchObject({ created: true })
  })
})
