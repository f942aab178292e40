/**
 * Pattern β end to end: messages to a wallet that has not set up are relayed through the server's
 * key (the sender is told), then made end-to-end when the receiver sets up; afterwards no stored
 * ciphertext, in rows, handoffs or blocks, opens with the server's key.
 */
import {
  createKeyBundle,
  deriveConversationKey,
  type Envelope,
  fromBase64Url,
  generateDmtpKeys,
  openEnvelope,
  toBlock,
  wrapDmtpKeys,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { createClient, privateKeyWallet, ServerKeyRejectedError } from '../src/index.js'
import { newClient, TestServer } from './_util.js'
import { attack } from './hostile/attack.js'

/** Every place the server keeps message bytes, tried with the server's own key. */
async function serverReadable(server: TestServer): Promise<string[]> {
  const { keys, address } = server.ctx.serverKey.get()
  const db = server.ctx.database.db
  const bundles = new Map(
    (await db.selectFrom('key_bundles').select(['address', 'bundle']).execute()).map((r) => [r.address, JSON.parse(r.bundle)]),
  )
  const tryOpen = async (envelope: Envelope) => {
    const readable: string[] = []
    for (const party of [envelope.sender, envelope.receiver]) {
      const bundle = bundles.get(party)
      if (!bundle) continue
      const key = await deriveConversationKey(crypto, {
        secretKey: keys.x25519.secretKey,
        publicKey: keys.x25519.publicKey,
        address,
        peerPublicKey: fromBase64Url(bundle.DMTPpubKey.x25519),
        peerAddress: party,
      })
      if (
        await openEnvelope(crypto, { envelope, key }).then(
          () => true,
          () => false,
        )
      )
        readable.push(envelope.id)
    }
    return readable
  }
  const found: string[] = []
  for (const row of await db.selectFrom('messages').select('envelope').execute())
    found.push(...(await tryOpen(JSON.parse(row.envelope))))
  found.push(...(await db.selectFrom('handoffs').select('message_id').execute()).map((r) => `handoff ${r.message_id}`))
  for (const cid of await db.selectFrom('cids').select('cid').execute()) {
    const bytes = await server.ctx.blockStore.get(cid.cid)
    if (!bytes) continue
    const value = JSON.parse(new TextDecoder().decode(bytes))
    if (value.suite) found.push(...(await tryOpen(value)))
  }
  return found
}

describe('pattern β (sqlite, anvil)', () => {
  test('default: relayed, the sender warned; end-to-end once the receiver sets up; nothing left the server can read', async () => {
    await using server = await TestServer.create({ chain: true })
    const alice = newClient(server.url, undefined, { node: true })
    await alice.setup()
    const bobKey = generatePrivateKey()
    const bobAddress = privateKeyToAccount(bobKey).address

    const sent = []
    for (let i = 0; i < 5; i++) sent.push(await alice.send(bobAddress, `before setup ${i}`))
    expect(sent[0]).toMatchObject({ e2ee: false, notice: expect.stringContaining('has not set up DMTP yet') })
    const aliceAddress = (await alice.getWallet()).address
    const processing = await server.ctx.database.db
      .selectFrom('processing_chats')
      .select('room_id')
      .where('address', '=', bobAddress)
      .execute()
    expect(processing.map((row) => row.room_id)).toEqual([sent[0]?.room])
    expect((await alice.messages(bobAddress)).messages.map((m) => [m.text, m.e2ee])).toEqual(
      sent.map((_, i) => [`before setup ${i}`, false]),
    )
    expect(await serverReadable(server)).toHaveLength(5)
    await server.ctx.anchoring.syncNow()

    const bob = newClient(server.url, bobKey, { node: true })
    const progress: number[] = []
    const setup = await bob.setup({ onMigrationProgress: ({ done }) => progress.push(done) })
    expect(setup.migration).toEqual({ migrated: 5, remaining: 0 })
    expect(progress.at(-1)).toBe(5)

    const bobView = await bob.messages(aliceAddress)
    expect(bobView.messages.map((m) => [m.text, m.e2ee, m.status])).toEqual(sent.map((_, i) => [`before setup ${i}`, true, 'ok']))
    expect(bobView.messages.map((m) => m.id)).toEqual(sent.map((s) => s.id))
    const aliceView = await newClient(server.url, alice.key, { node: true }).messages(bobAddress)
    expect(aliceView.messages.every((m) => m.e2ee && m.status === 'ok')).toBe(true)

    expect(await serverReadable(server)).toEqual([])
    const after = await server.ctx.database.db
      .selectFrom('processing_chats')
      .select('room_id')
      .where('address', '=', bobAddress)
      .execute()
    expect(after).toEqual([])
    for (const old of sent) expect((await fetch(`${server.url}/ipfs/${old.cid}`)).status).toBe(404)
    expect(await bob.verify()).toMatchObject({ anchored: 0, pending: 5, replaced: 5, missing: 0, altered: 0, ok: true })

    // New messages are end-to-end from the start, and the anchored history says what happened.
    expect(await alice.send(bobAddress, 'after setup')).toMatchObject({ e2ee: true })
    const sync = await server.ctx.anchoring.syncNow()
    const manifest = JSON.parse(new TextDecoder().decode(await server.ctx.blockStore.get(sync?.cid as string)))
    expect(Object.keys(manifest.replaced).sort()).toEqual(sent.map((s) => s.cid).sort())
    const report = await bob.verify()
    expect(report).toMatchObject({ anchored: 6, missing: 0, altered: 0, ok: true })
  })

  // A server key not signed by the registry's owner is refused, and nothing is sent.
  attack('a forged server key (pattern β)', 'at once', async () => {
    await using server = await TestServer.create({ chain: true })
    // A server that swaps in a key of its own: a valid bundle, signed by a wallet that is not the operator.
    const forger = privateKeyToAccount(generatePrivateKey())
    const keys = await generateDmtpKeys(crypto)
    const info = await (await fetch(`${server.url}/v1/info`)).json()
    const wallet = { address: forger.address, signMessage: (message: string) => forger.signMessage({ message }) }
    const forged = await createKeyBundle(crypto, {
      keys,
      encrypted: await wrapDmtpKeys(crypto, { keys, wallet }),
      address: forger.address,
      domain: info.domain,
      chainId: info.chainId,
      signMessage: wallet.signMessage,
    })
    const block = toBlock(forged)
    const lyingFetch: typeof fetch = async (input, init) => {
      const url = String(input)
      if (url.endsWith('/v1/server-key')) {
        return Response.json({ address: forger.address, cid: block.cid, bundle: forged, createdAt: new Date().toISOString() })
      }
      if (url.endsWith(`/ipfs/${block.cid}`)) return new Response(block.bytes)
      return fetch(input, init)
    }
    const alice = createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()), fetch: lyingFetch })
    await alice.setup()
    const stranger = privateKeyToAccount(generatePrivateKey()).address
    const error = await alice.send(stranger, 'to a forged key?').catch((e) => e)
    expect(error).toBeInstanceOf(ServerKeyRejectedError)
    expect(error.shortMessage).toMatch(/not by the registry's owner/)
    expect(await server.ctx.database.db.selectFrom('messages').selectAll().execute()).toEqual([])
  })
})
