/**
 * Keys cannot be rolled back or hidden by answering differently (issue 16 item 3). The operator
 * edits its real database: it serves a wallet's older key bundle again after a rotation, or hides
 * a registered wallet's keys so that a sender would relay through the server (pattern β, which
 * the server can read). Each test asserts what the sender is shown and that nothing was sent.
 * The client's memory of the newest bundle per wallet lives in its storage, so a later run (a
 * reload, the next CLI command) holds to it too, with the chain down or absent.
 */
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { serverOnOwnChain } from '../../../server/test/_own-chain.js'
import { type ClientStorage, createClient, KeyWithheldError, memoryStorage, privateKeyWallet } from '../../src/index.js'
import { DIALECTS, newClient, TestServer } from '../_util.js'
import { attack } from './attack.js'

/** A sender whose storage outlives the client object, so a "later run" is a new client on it. */
function sender(server: TestServer, key = generatePrivateKey(), storage: ClientStorage = memoryStorage()) {
  const run = () => createClient({ server: server.url, wallet: privateKeyWallet(key), crypto, storage })
  return { first: run(), later: run }
}

async function messageCount(server: TestServer): Promise<number> {
  const row = await server.ctx.database.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The operator owns the process too: it drops the key service's cache of what it just edited. */
function dropKeyCache(server: TestServer): void {
  ;(server.ctx.keys as unknown as { current: Map<string, unknown> }).current.clear()
}

/** The operator hides every key bundle of `address`: the server now answers `key_not_found`. */
async function hideKeys(server: TestServer, address: string): Promise<void> {
  await server.ctx.database.db.deleteFrom('key_bundles').where('address', '=', address).execute()
  dropKeyCache(server)
}

/** A wallet set up on `server`, its key bundle anchored on the server's chain. */
async function anchoredWallet(server: TestServer) {
  const chain = server.ctx.chain
  if (!chain) throw new Error('no chain')
  const bob = newClient(server.url, undefined, { node: true })
  await bob.setup()
  const bobAddress = (await bob.getWallet()).address
  await server.ctx.anchoring.syncNow()
  for (let i = 0; (await chain.keyOf(bobAddress)) !== bob.state.currentCid && i < 400; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { bob, bobAddress, chain }
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

describe.each(DIALECTS)('keys under a hostile server (%s)', (dialect) => {
  attack('a key bundle rolled back after a rotation, with no chain to ask', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = sender(server)
    const bob = newClient(server.url, undefined, { node: true })
    await Promise.all([alice.first.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address
    const old = bob.state.currentCid as string
    await alice.first.send(bobAddress, 'before the rotation')
    await new Promise((resolve) => setTimeout(resolve, 5))
    await bob.setup({ rotate: true })
    const rotated = bob.state.currentCid as string
    expect(rotated).not.toBe(old)
    await alice.later().send(bobAddress, 'after the rotation')

    // The operator makes the old bundle current again (it holds a copy of that key, say).
    const db = server.ctx.database.db
    await db.deleteFrom('key_bundles').where('cid', '=', rotated).execute()
    await db.updateTable('key_bundles').set({ replaced_at: null }).where('cid', '=', old).execute()
    dropKeyCache(server)
    const before = await messageCount(server)

    const later = alice.later()
    const whois = await later.whois(bobAddress)
    expect(whois).toMatchObject({ registered: true, verified: false, cid: old })
    expect((whois as { problem: string }).problem).toContain('rollback')
    await expect(later.send(bobAddress, 'to the old key?')).rejects.toThrow(/rollback/)
    expect(await messageCount(server)).toBe(before)
  })

  attack('a registered wallet said to have no keys, to a client that saw them (pattern-β downgrade)', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = sender(server)
    const bob = newClient(server.url, undefined, { node: true })
    await Promise.all([alice.first.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address
    await alice.first.send(bobAddress, 'end-to-end')
    await hideKeys(server, bobAddress)
    const before = await messageCount(server)

    const error = await refusal(alice.later().send(bobAddress, 'would be server-readable'))
    expect(error).toBeInstanceOf(KeyWithheldError)
    expect(error).toMatchObject({ code: 'key_withheld', address: bobAddress, verified: true })
    expect(await messageCount(server)).toBe(before)
  })

  attack('a registered wallet said to have no keys, caught on chain (pattern-β downgrade)', 'at once', async () => {
    await using server = await TestServer.create({ dialect, chain: true })
    const { bob, bobAddress } = await anchoredWallet(server)
    await hideKeys(server, bobAddress)
    const before = await messageCount(server)

    // A sender that never saw bob's keys: only the chain can tell it they exist.
    const alice = sender(server).first
    await alice.setup()
    const error = await refusal(alice.send(bobAddress, 'would be server-readable'))
    expect(error).toBeInstanceOf(KeyWithheldError)
    expect(error).toMatchObject({ code: 'key_withheld', address: bobAddress, cid: bob.state.currentCid })
    expect(await messageCount(server)).toBe(before)
  })

  attack('the chain re-pointed to an old key bundle by the registry owner', 'at once', async () => {
    await using server = await TestServer.create({ dialect, chain: true })
    const { bob, bobAddress, chain } = await anchoredWallet(server)
    const old = bob.state.currentCid as string
    await new Promise((resolve) => setTimeout(resolve, 5))
    // A rotation is on chain before it is acknowledged.
    await bob.setup({ rotate: true })
    const rotated = bob.state.currentCid as string
    expect(await chain.keyOf(bobAddress)).toBe(rotated)

    // The operator, who owns the registry, calls addKey with the old CID and serves it again.
    const tx = await chain.sendAddKeys([{ address: bobAddress, cid: old }], await chain.nextNonce())
    await chain.waitForReceipt(tx)
    expect(await chain.keyOf(bobAddress)).toBe(old)
    const db = server.ctx.database.db
    await db.deleteFrom('key_bundles').where('cid', '=', rotated).execute()
    await db.updateTable('key_bundles').set({ replaced_at: null }).where('cid', '=', old).execute()
    dropKeyCache(server)
    const before = await messageCount(server)

    // A sender that never saw the newer bundle: only the registry's KeyAdded history shows it.
    const alice = sender(server).first
    await alice.setup()
    const whois = await alice.whois(bobAddress)
    expect(whois).toMatchObject({ registered: true, verified: false, cid: old })
    await expect(alice.send(bobAddress, 'to the old key?')).rejects.toThrow()
    expect(await messageCount(server)).toBe(before)
  })

  test('behavior: with the chain unreadable, every send to a wallet says its key could not be checked', async () => {
    await using own = await serverOnOwnChain(dialect)
    const { server } = own
    const alice = sender(server).first
    const bob = newClient(server.url, undefined, { node: true })
    await Promise.all([alice.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address
    expect((await alice.send(bobAddress, 'chain up')).warning).toBeUndefined()
    await own.stopChain()
    // A later run of the client (nothing cached): the key cannot be checked, and each send says so.
    const later = sender(server).later()
    await later.setup()
    for (const text of ['chain down', 'still down']) {
      const sent = await later.send(bobAddress, text)
      expect(sent.e2ee).toBe(true)
      expect(sent.warning).toMatch(/could not be checked against the chain/)
    }
  }, 60_000)
})
