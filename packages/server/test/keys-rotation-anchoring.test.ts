/**
 * Key rotations are anchored before they are acknowledged (issue 16, item 3): the `addKeys`
 * transaction of a rotation is mined when `PUT /v1/keys` answers, a rotation the chain cannot take
 * is refused with `503 chain_unavailable` and not stored, and a rotation refused for its content
 * (another domain or chain, older than the current one) sends nothing to the chain.
 */
import { describe, expect, test } from 'vitest'
import { serverOnOwnChain } from './_own-chain.js'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import { api, TestWallet } from './_wallet.js'

async function waitFor(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The chain holds the bundle and the server has recorded that it is mined (`anchored_at`). */
async function waitAnchored(server: TestServer, address: string, cid: string): Promise<void> {
  await waitFor(async () => {
    if ((await server.ctx.chain?.keyOf(address)) !== cid) return false
    const row = await server.ctx.database.db
      .selectFrom('key_bundles')
      .select('anchored_at')
      .where('cid', '=', cid)
      .executeTakeFirst()
    return row?.anchored_at != null
  })
}

describe.each(DIALECTS)('key rotation anchoring (%s, anvil)', (dialect) => {
  test('default: a rotation is on chain, mined, when its PUT is answered', async () => {
    await using server = await TestServer.create({ dialect, chain: true })
    const chain = server.ctx.chain
    if (!chain) throw new Error('no chain')
    const alice = await new TestWallet(server.url).setup()
    // A first registration keeps batched anchoring: it reaches the chain a little later.
    await waitAnchored(server, alice.address, alice.bundleCid)
    const first = alice.bundleCid

    const { bundle } = await alice.makeBundle()
    const response = await alice.putBundle(bundle)
    expect(response.body).toEqual({ address: alice.address, cid: expect.any(String), replaced: first })
    expect(await chain.keyOf(alice.address)).toBe(response.body.cid)
    const row = await server.ctx.database.db
      .selectFrom('key_bundles')
      .select(['anchor_tx', 'anchored_at', 'replaced_at'])
      .where('cid', '=', response.body.cid)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({
      anchor_tx: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      anchored_at: expect.any(String),
      replaced_at: null,
    })
    expect((await chain.receipt(row.anchor_tx as `0x${string}`))?.success).toBe(true)
  })

  test('behavior: a rotation while the chain is down is 503 chain_unavailable and not stored', async () => {
    await using setup = await serverOnOwnChain(dialect)
    const { server } = setup
    const alice = await new TestWallet(server.url).setup()
    await waitAnchored(server, alice.address, alice.bundleCid)
    const { bundle } = await alice.makeBundle()

    await setup.stopChain()
    const before = await snapshotDb(server)
    const refused = await alice.putBundle(bundle)
    expect(refused.status).toBe(503)
    expect(refused.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "chain_unavailable",
          "message": "The chain cannot take this key rotation now, so it was not stored; your current keys stay. Retry later.",
        },
      }
    `)
    expect(await snapshotDb(server)).toEqual(before)
    expect((await api(server.url, 'GET', `/v1/keys/${alice.address}`)).body.cid).toBe(alice.bundleCid)

    await setup.startChain()
    const retried = await alice.putBundle(bundle)
    expect(retried.status).toBe(200)
    expect(await server.ctx.chain?.keyOf(alice.address)).toBe(retried.body.cid)
    expect((await api(server.url, 'GET', `/v1/keys/${alice.address}`)).body.cid).toBe(retried.body.cid)
  }, 60_000)

  test('behavior: a rotation for another domain or chain, or older than the current keys, sends nothing', async () => {
    await using server = await TestServer.create({ dialect, chain: true })
    const chain = server.ctx.chain
    if (!chain) throw new Error('no chain')
    const alice = await new TestWallet(server.url).setup()
    await waitAnchored(server, alice.address, alice.bundleCid)
    const nonce = await chain.nextNonce()
    const before = await snapshotDb(server)

    const domain = (await alice.makeBundle({}, undefined, { domain: 'evil.example' })).bundle
    const chainId = (await alice.makeBundle({}, undefined, { chainId: 1 })).bundle
    const older = (await alice.makeBundle({}, undefined, { issuedAt: new Date(Date.now() - 3_600_000) })).bundle
    const answers = []
    for (const bundle of [domain, chainId, older]) {
      const response = await alice.putBundle(bundle)
      answers.push({ status: response.status, code: response.body.error.code })
    }
    expect(answers).toEqual([
      { status: 400, code: 'invalid_key_bundle' },
      { status: 400, code: 'invalid_key_bundle' },
      { status: 409, code: 'stale_key_bundle' },
    ])
    expect(await snapshotDb(server)).toEqual(before)
    expect(await chain.nextNonce()).toBe(nonce)
    expect(await chain.keyOf(alice.address)).toBe(alice.bundleCid)
  })
})
