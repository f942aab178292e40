/**
 * Anchoring against a real EVM (anvil spawned by the server): key bundles go on chain with
 * addKeys, manifests list exactly what is new and link the previous one, their CIDs go on chain
 * with storeCID, and the chain survives a restart.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Manifest, manifestSchema } from '@dmtp/protocol'
import { createTestClient, http } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { AnvilProcess } from '../src/ports/chain/anvil-process.js'
import { freePort } from './_server-process.js'
import { TestServer } from './_util.js'
import { api, TestWallet } from './_wallet.js'

async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function manifestAt(server: TestServer, cid: string): Promise<Manifest> {
  const bytes = await server.ctx.blockStore.get(cid)
  if (!bytes) throw new Error(`manifest ${cid} not in the block store`)
  return manifestSchema.parse(JSON.parse(new TextDecoder().decode(bytes)))
}

describe('anchoring (sqlite, anvil)', () => {
  test('default: keys and manifests go on chain; each manifest holds only what is new', async () => {
    await using server = await TestServer.create({ chain: true })
    const chain = server.ctx.chain
    if (!chain) throw new Error('no chain')
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    await waitFor(
      async () => (await chain.keyOf(alice.address)) === alice.bundleCid && (await chain.keyOf(bob.address)) === bob.bundleCid,
    )

    const first = []
    for (let i = 0; i < 3; i++) first.push((await alice.send(bob, `first ${i}`)).body.cid)
    const sync1 = await server.ctx.anchoring.syncNow()
    expect(sync1?.anchor?.index).toBe(0)
    const manifest1 = await manifestAt(server, sync1?.cid as string)
    expect(manifest1).toMatchObject({ v: 1, index: 1, prev: null })
    const room = Object.keys(manifest1.rooms)[0] as string
    expect(manifest1.rooms[room]).toEqual(first)
    expect(Object.keys(manifest1.keys).sort()).toEqual([alice.address, bob.address, server.ctx.serverKey.address].sort())

    const second = [(await bob.send(alice, 'second')).body.cid]
    const sync2 = await server.ctx.anchoring.syncNow()
    const manifest2 = await manifestAt(server, sync2?.cid as string)
    expect(manifest2).toMatchObject({ index: 2, prev: sync1?.cid, keys: {} })
    expect(manifest2.rooms).toEqual({ [room]: second })
    expect(await chain.anchors(0, 10)).toEqual([sync1?.cid, sync2?.cid])
    expect(await server.ctx.anchoring.syncNow()).toBeUndefined()

    const anchor = await api(server.url, 'GET', `/v1/anchors/${first[0]}`)
    expect(anchor.body).toMatchObject({
      status: 'anchored',
      kind: 'message',
      manifest: { seq: 1, cid: sync1?.cid, chainIndex: 0, blockNumber: String(sync1?.anchor?.blockNumber) },
    })
    const info = await api(server.url, 'GET', '/v1/info')
    expect(info.body.chain).toMatchObject({ chainId: 31337, registry: chain.info.registry })
  })

  test('behavior: a sync starts by itself after --sync-every messages', async () => {
    await using server = await TestServer.create({
      chain: true,
      configure: (c) => {
        c.anchoring.everyMessages = 3
      },
    })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    // The three key bundles (the server's, alice's, bob's) are CIDs too: they fill the first sync.
    // Waiting for it keeps a later sync from taking only some of the messages below.
    const anchoredAt = async (cid: string) => {
      const response = await api(server.url, 'GET', `/v1/anchors/${cid}`)
      return response.body.status === 'anchored' && response.body
    }
    expect((await waitFor(() => anchoredAt(bob.bundleCid), 20_000)).manifest.chainIndex).toBe(0)
    const cids = []
    for (let i = 0; i < 3; i++) cids.push((await alice.send(bob, `m${i}`)).body.cid)
    const anchored = await waitFor(() => anchoredAt(cids[2]), 20_000)
    expect(anchored.manifest.chainIndex).toBe(1)
  })

  test('behavior: the chain, the registry and every anchor survive a server restart', async () => {
    await using server = await TestServer.create({ chain: true })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    await alice.send(bob, 'before restart')
    const sync = await server.ctx.anchoring.syncNow()
    const registry = server.ctx.chain?.info.registry
    await server.restart()
    expect(server.ctx.chain?.info.registry).toBe(registry)
    expect(await server.ctx.chain?.anchors(0, 10)).toEqual([sync?.cid])
    await bob.send(alice, 'after restart')
    const next = await server.ctx.anchoring.syncNow()
    expect(next?.anchor?.index).toBe(1)
    expect((await manifestAt(server, next?.cid as string)).prev).toBe(sync?.cid)
  })

  test('behavior: with the chain down, messages keep flowing and anchoring resumes when it returns, once', async () => {
    const chainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-external-chain-'))
    const port = await freePort()
    let anvil = await AnvilProcess.start({ dir: chainDir, chainId: 31337, port })
    const operatorKey = generatePrivateKey()
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-external-chain-data-'))
    fs.writeFileSync(path.join(dataDir, 'operator.key'), operatorKey)
    await createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl, { retryCount: 0 }) }).setBalance({
      address: privateKeyToAccount(operatorKey).address,
      value: 10n ** 21n,
    })
    try {
      await using server = await TestServer.create({
        dataDir,
        configure: (c) => {
          c.chain = { provider: 'rpc', url: anvil.rpcUrl, publicRpcUrl: undefined, registry: undefined }
        },
      })
      const alice = await new TestWallet(server.url).setup()
      const bob = await new TestWallet(server.url).setup()
      const before = (await alice.send(bob, 'before the outage')).body.cid
      // Every key bundle on chain first: a key batch still due when the chain goes down would fail
      // the sync before its manifest is stored (the outage under test is the manifests').
      await waitFor(async () => {
        const due = await server.ctx.database.db
          .selectFrom('key_bundles')
          .select('cid')
          .where('replaced_at', 'is', null)
          .where('anchored_at', 'is', null)
          .execute()
        return due.length === 0
      })
      await server.ctx.anchoring.syncNow()

      await anvil.stop()
      const during = await alice.send(bob, 'during the outage')
      expect(during.status).toBe(200)
      await expect(server.ctx.anchoring.syncNow()).rejects.toThrow()
      // No manifest is built while the chain is down: each names a recent block as its lower time
      // bound (protocol.md §7), so the message waits, unclaimed, for the chain to return.
      expect((await api(server.url, 'GET', `/v1/anchors/${during.body.cid}`)).body.status).toBe('pending')

      anvil = await AnvilProcess.start({ dir: chainDir, chainId: 31337, port })
      const anchored = await waitFor(async () => {
        const response = await api(server.url, 'GET', `/v1/anchors/${during.body.cid}`)
        return response.body.status === 'anchored' && response.body
      }, 60_000)
      const onChain = await server.ctx.chain?.anchors(0, 100)
      expect(onChain).toHaveLength(2)
      expect(onChain?.[1]).toBe(anchored.manifest.cid)
      expect((await api(server.url, 'GET', `/v1/anchors/${before}`)).body.manifest.chainIndex).toBe(0)
    } finally {
      await anvil.stop()
      fs.rmSync(chainDir, { recursive: true, force: true })
    }
  }, 90_000)
})
