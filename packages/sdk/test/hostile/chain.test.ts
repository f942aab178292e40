/**
 * The chain is the user's, not the operator's (issue 16 item 4): a real server with its embedded
 * anvil, a man in the middle in front of the server (rewriting `/v1/info`) and a lying JSON-RPC
 * proxy in front of the anvil (`_rpc-proxy.ts`). The client pins the chain id and registry on first
 * use and refuses a server that changes or drops them; `verify` through the user's own RPC catches
 * what the operator's RPC hides; manifests carry a lower time bound; a `receivedAt` far from the
 * signed time is flagged.
 */
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test, vi } from 'vitest'
import type { DialectName } from '../../../server/test/_util.js'
import {
  ChainChangedError,
  ChainMismatchError,
  type ClientStorage,
  createClient,
  memoryStorage,
  privateKeyWallet,
} from '../../src/index.js'
import { MitmProxy } from '../_proxy.js'
import { DIALECTS, TestServer } from '../_util.js'
import { RpcProxy, registryCall, registryDecode, registryResult } from './_rpc-proxy.js'
import { attack } from './attack.js'

const OTHER_REGISTRY = '0x000000000000000000000000000000000000dEaD'

async function hostileSetup(dialect: DialectName) {
  const proxy = await MitmProxy.create()
  const server = await TestServer.create({
    dialect,
    chain: true,
    configure: (c) => {
      c.service.publicUrl = proxy.url
    },
  })
  proxy.target = server.server.port
  const chain = server.ctx.chain?.info
  if (!chain) throw new Error('no chain')
  const rpc = await RpcProxy.start(chain.rpcUrl)
  return {
    server,
    proxy,
    rpc,
    /** The real anvil: the RPC a careful user runs or chose. */
    anvil: chain.rpcUrl,
    chain,
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]()
      await proxy[Symbol.asyncDispose]()
      await rpc[Symbol.asyncDispose]()
    },
  }
}

type Setup = Awaited<ReturnType<typeof hostileSetup>>

function user(setup: Setup, key: string = generatePrivateKey(), storage: ClientStorage = memoryStorage()) {
  return Object.assign(
    createClient({ server: setup.proxy.url, wallet: privateKeyWallet(key), crypto: nodeCryptoBackend, storage }),
    {
      key,
      storage,
    },
  )
}

/** `/v1/info` as the hostile server answers it from now on. */
function rewriteInfo(setup: Setup, change: (info: any) => any): void {
  setup.proxy.rewriteJson = (path, body) => (path === '/v1/info' ? change(body) : body)
}

async function anchorKeys(setup: Setup, addresses: string[]): Promise<void> {
  await setup.server.ctx.anchoring.syncNow()
  for (const address of addresses) {
    for (let i = 0; (await setup.server.ctx.chain?.keyOf(address)) === '' && i < 400; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

describe.each(DIALECTS)('the chain is the user’s (%s)', (dialect) => {
  test('default: the first /v1/info pins its chain; an honest server passes verify with bounded manifests', async () => {
    await using setup = await hostileSetup(dialect)
    const alice = user(setup)
    const bob = user(setup)
    await alice.setup()
    await bob.setup()
    expect(JSON.parse((await alice.storage.get(`dmtp:chain:${setup.proxy.url}`)) as string)).toEqual({
      chainId: setup.chain.chainId,
      registry: setup.chain.registry,
    })
    await alice.send((await bob.getWallet()).address, 'gm')
    await anchorKeys(setup, [(await alice.getWallet()).address, (await bob.getWallet()).address])
    const operatorOnly = await alice.verify()
    expect(operatorOnly).toMatchObject({
      ok: true,
      anchored: 1,
      chain: { chainId: setup.chain.chainId, registry: setup.chain.registry, source: 'operator' },
      timeBounds: { bounded: 1, unbounded: 0, failed: 0 },
      receivedAtSkew: 0,
    })
    expect(operatorOnly.warnings.map((warning) => warning.code)).toEqual(['operator_rpc'])
    const own = await alice.verify({ rpcUrl: setup.rpc.url })
    expect(own).toMatchObject({ ok: true, chain: { source: 'user', rpcUrl: setup.rpc.url }, warnings: [] })
    expect(setup.rpc.calls).toContain('eth_chainId')
    // A client configured with the published chain, and an RPC of the user's, needs no pin.
    const configured = createClient({
      server: setup.proxy.url,
      wallet: privateKeyWallet(alice.key),
      crypto: nodeCryptoBackend,
      chain: { id: setup.chain.chainId, registry: setup.chain.registry, rpcUrl: setup.rpc.url },
    })
    expect(await configured.verify()).toMatchObject({ ok: true, chain: { source: 'user' }, warnings: [] })
  })

  attack('a server that changes its chain id or registry', 'at once', async () => {
    await using setup = await hostileSetup(dialect)
    const alice = user(setup)
    const bob = user(setup)
    await alice.setup()
    await bob.setup()
    const to = (await bob.getWallet()).address
    for (const change of [
      (info: any) => ({ ...info, chain: { ...info.chain, registry: OTHER_REGISTRY } }),
      (info: any) => ({ ...info, chain: { ...info.chain, chainId: 1 } }),
    ]) {
      rewriteInfo(setup, change)
      setup.proxy.requests.length = 0
      // The same wallet in a later run: its pin and its session token are in its storage.
      const later = user(setup, alice.key, alice.storage)
      const refused = await later.send(to, 'to the wrong chain').catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(ChainChangedError)
      expect(refused).toMatchObject({ code: 'chain_changed', pinned: { chainId: setup.chain.chainId } })
      // Nothing was signed or sent: reads only, and the refused /v1/info among them.
      expect(setup.proxy.requests).toContain('GET /v1/info')
      expect(setup.proxy.requests.filter((request) => !request.startsWith('GET '))).toEqual([])
      await expect(user(setup, alice.key, alice.storage).verify()).rejects.toMatchObject({ code: 'chain_changed' })
    }
    // A client configured with the published chain refuses a server naming another on first use.
    rewriteInfo(setup, (info) => ({ ...info, chain: { ...info.chain, registry: OTHER_REGISTRY } }))
    const configured = createClient({
      server: setup.proxy.url,
      wallet: privateKeyWallet(generatePrivateKey()),
      crypto: nodeCryptoBackend,
      chain: { id: setup.chain.chainId, registry: setup.chain.registry },
    })
    await expect(configured.setup()).rejects.toThrow(ChainChangedError)
    expect(await setup.server.ctx.database.db.selectFrom('messages').select('id').execute()).toEqual([])
    // Re-pinning is deliberate: then the new chain is the one trusted.
    const repinned = await user(setup, alice.key, alice.storage).repinChain()
    expect(repinned).toEqual({
      previous: { chainId: setup.chain.chainId, registry: setup.chain.registry },
      pinned: { chainId: setup.chain.chainId, registry: OTHER_REGISTRY },
    })
  })

  attack('a server that drops its chain', 'at once', async () => {
    await using setup = await hostileSetup(dialect)
    const alice = user(setup)
    await alice.setup()
    rewriteInfo(setup, (info) => ({ ...info, chain: null }))
    setup.proxy.requests.length = 0
    const later = user(setup, alice.key, alice.storage)
    const refused = await later.send(privateKeyToAccount(generatePrivateKey()).address, 'hi').catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ChainChangedError)
    expect(refused).toMatchObject({ code: 'chain_changed', named: null })
    expect((refused as Error).message).toContain('names no chain')
    expect(setup.proxy.requests).toContain('GET /v1/info')
    expect(setup.proxy.requests.filter((request) => !request.startsWith('GET '))).toEqual([])
  })

  attack(
    'a lying chain RPC',
    'on verify',
    async () => {
      await using setup = await hostileSetup(dialect)
      const alice = user(setup)
      const bob = user(setup)
      await alice.setup()
      await bob.setup()
      const [a, b] = [(await alice.getWallet()).address, (await bob.getWallet()).address]
      await alice.send(b, 'one')
      await anchorKeys(setup, [a, b])
      const oldKey = await setup.server.ctx.chain?.keyOf(b)
      // What bob's key looked like before his rotation, as the hostile server will serve it again.
      let oldBundle: unknown
      setup.proxy.rewriteJson = (path, body) => {
        if (path === `/v1/keys/${b}`) oldBundle ??= body
        return body
      }
      await user(setup).whois(b)
      // The chain as the lying RPC will show it: as it was before bob rotated his key.
      const before = (await setup.server.ctx.chain?.latestBlock())?.number as bigint
      await bob.setup({ rotate: true })
      const sent = await alice.send(b, 'two')
      await anchorKeys(setup, [b])
      expect(await setup.server.ctx.chain?.keyOf(b)).not.toBe(oldKey)
      const anchored = (await setup.server.ctx.chain?.anchorCount()) as number

      // The operator rolls bob's key back and drops "two", and its RPC agrees: the old key, and
      // the registry as it was before the manifest that lists "two".
      await setup.server.ctx.database.db.deleteFrom('messages').where('id', '=', sent.id).execute()
      setup.proxy.rewriteJson = (path, body) => {
        if (path === `/v1/keys/${b}`) return oldBundle
        if (path === '/v1/info') return { ...body, chain: { ...body.chain, rpcUrl: setup.rpc.url } }
        return body
      }
      setup.rpc.rewrite = (call, result) => {
        const read = registryCall(call)
        if (read?.functionName === 'getKey' && String(read.args[0]).toLowerCase() === b.toLowerCase())
          return registryResult('getKey', oldKey)
        if (read?.functionName === 'cidCount') return registryResult('cidCount', BigInt(anchored - 1))
        if (read?.functionName === 'getCIDs') {
          const [start] = read.args as [bigint, bigint]
          const real = registryDecode('getCIDs', result) as string[]
          return registryResult('getCIDs', real.slice(0, Math.max(0, anchored - 1 - Number(start))))
        }
        if (call.method === 'eth_getLogs')
          return (result as { blockNumber: string }[]).filter((log) => BigInt(log.blockNumber) <= before)
        return result
      }
      const fresh = () => user(setup, alice.key)
      const fooled = await fresh().verify()
      expect(setup.rpc.calls).toContain('eth_call')
      expect(fooled).toMatchObject({ missing: 0, keys: { mismatched: 0 }, chain: { source: 'operator', rpcUrl: setup.rpc.url } })
      expect(fooled.warnings.map((warning) => warning.code)).toContain('operator_rpc')

      const caught = await fresh().verify({ rpcUrl: setup.anvil })
      expect(caught).toMatchObject({ ok: false, missing: 1, chain: { source: 'user', rpcUrl: setup.anvil } })
      expect(caught.keyDetails.find((key) => key.address === b)).toMatchObject({ status: 'mismatched' })
      expect(caught.warnings.map((warning) => warning.code)).not.toContain('operator_rpc')
    },
    120_000,
  )

  attack('a user RPC on another chain id', 'at once', async () => {
    await using setup = await hostileSetup(dialect)
    const alice = user(setup)
    await alice.setup()
    setup.rpc.rewrite = (call, result) => (call.method === 'eth_chainId' ? '0x1' : result)
    const refused = await alice.verify({ rpcUrl: setup.rpc.url }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ChainMismatchError)
    expect(refused).toMatchObject({ code: 'chain_mismatch', expected: setup.chain.chainId, actual: 1 })
    // Nothing else was asked of it.
    expect(setup.rpc.calls).toEqual(['eth_chainId'])
    // The operator's RPC gets the same check: a server naming an RPC of another chain is refused.
    rewriteInfo(setup, (info) => ({ ...info, chain: { ...info.chain, rpcUrl: setup.rpc.url } }))
    await expect(user(setup, alice.key).verify()).rejects.toMatchObject({ code: 'chain_mismatch' })
  })

  attack(
    'a backdated manifest',
    'on verify',
    async () => {
      await using setup = await hostileSetup(dialect)
      const alice = user(setup)
      const bob = user(setup)
      const day = 24 * 60 * 60_000
      // The operator and a colluding sender set their clocks back a day: every time they sign,
      // store or put in a manifest agrees, and only the chain (its own clock) disagrees.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - day })
      try {
        await alice.setup()
        await bob.setup()
        await alice.send((await bob.getWallet()).address, 'sent "yesterday"')
        await anchorKeys(setup, [(await alice.getWallet()).address, (await bob.getWallet()).address])
      } finally {
        vi.useRealTimers()
      }
      const report = await user(setup, bob.key).verify({ rpcUrl: setup.anvil })
      expect(report).toMatchObject({ ok: false, anchored: 1, altered: 0, missing: 0, receivedAtSkew: 0 })
      expect(report.timeBounds).toEqual({ bounded: 0, unbounded: 0, failed: 1 })
      expect(report.timeBoundDetails[0]?.reason).toMatch(/^back-dated: dated .*, before block \d+ it names as made after$/)
    },
    120_000,
  )

  attack('a receivedAt far from the signed timestamp', 'at once', async () => {
    await using setup = await hostileSetup(dialect)
    const alice = user(setup)
    const bob = user(setup)
    await alice.setup()
    await bob.setup()
    const to = (await bob.getWallet()).address
    const honest = await alice.send(to, 'on time')
    const moved = await alice.send(to, 'moved')
    const db = setup.server.ctx.database.db
    const late = new Date(Date.parse(moved.receivedAt) + 10 * 60_000).toISOString()
    await db.updateTable('messages').set({ received_at: late }).where('id', '=', moved.id).execute()
    const { messages } = await user(setup, bob.key).messages((await alice.getWallet()).address)
    expect(messages.map((m) => [m.text, m.status, m.warnings])).toEqual([
      ['on time', 'ok', undefined],
      ['moved', 'ok', ['received_at_skew']],
    ])
    expect(messages[0]?.id).toBe(honest.id)
    await setup.server.ctx.anchoring.syncNow()
    const report = await user(setup, bob.key).verify({ rpcUrl: setup.anvil })
    expect(report.receivedAtSkew).toBe(1)
    expect(report.skewDetails).toEqual([expect.objectContaining({ kind: 'message', receivedAt: late })])
    expect(report.warnings.map((warning) => warning.code)).toContain('received_at_skew')
  })
})
