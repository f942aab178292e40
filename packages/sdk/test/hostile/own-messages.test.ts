/**
 * Messages shown as the wallet's own are checked like anyone's. The pair key of a 1:1 room is
 * held by both ends, and that of a relayed message (pattern β) by the server: either could
 * encrypt words "from" this wallet. So the history and the stream of a device that did not send
 * them check the wallet's own Ed25519 signature, and a relayed one must be encrypted to the
 * server's verified key. A forged incoming message, which the server cannot seal under the pair
 * key, is refused as well. The forgeries below are written straight into the real database; each
 * test asserts what the wallet's owner is shown.
 */
import {
  type DmtpKeys,
  deriveConversationKey,
  type Envelope,
  type EnvelopeHeader,
  fromBase64Url,
  generateDmtpKeys,
  P2P_SUITE,
  RELAY_SUITE,
  sealEnvelope,
  toBase64Url,
  toBlock,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import type { DecryptedMessage } from '../../src/index.js'
import { collect, DIALECTS, messagesOf, newClient, TestServer } from '../_util.js'
import { attack } from './attack.js'

type Client = ReturnType<typeof newClient>

/** A client's unlocked keys and the CID of their bundle. */
async function keysOf(client: Client): Promise<{ cid: string; keys: DmtpKeys; address: string }> {
  const cid = client.state.currentCid as string
  const keys = await (client.state.ownKeys.get(cid) as Promise<DmtpKeys>)
  return { cid, keys, address: (await client.getWallet()).address }
}

/** Seals `text` under the pair key of `secret` (one end) and `peer` (the other), signed by `signingKey`. */
async function forge({
  header,
  text,
  secret,
  peer,
  signingKey,
}: {
  header: Omit<EnvelopeHeader, 'v' | 'id' | 'timestamp'>
  text: string
  secret: { keys: DmtpKeys; address: string }
  peer: { x25519: string; address: string }
  signingKey: Uint8Array
}): Promise<Envelope> {
  const key = await deriveConversationKey(crypto, {
    secretKey: secret.keys.x25519.secretKey,
    publicKey: secret.keys.x25519.publicKey,
    address: secret.address,
    peerPublicKey: fromBase64Url(peer.x25519),
    peerAddress: peer.address,
  })
  const full = { ...header, v: 1, id: toBase64Url(crypto.randomBytes(16)), timestamp: new Date().toISOString() } as EnvelopeHeader
  return sealEnvelope(crypto, { header: full, content: { type: 'text', text }, key, signingKey })
}

/** Writes `envelope` at its room's next position, as the server's writer would, with no check. */
async function insertRow(server: TestServer, envelope: Envelope & { receiver: string }, e2ee: boolean): Promise<void> {
  const db = server.ctx.database.db
  const room = await db.selectFrom('rooms').select(['seq']).where('id', '=', envelope.room).executeTakeFirstOrThrow()
  const counter = await db.selectFrom('counters').select('value').where('name', '=', 'pos').executeTakeFirstOrThrow()
  const seq = room.seq + 1
  const pos = counter.value + 1
  const block = toBlock(envelope, crypto.sha256)
  await db
    .insertInto('messages')
    .values({
      id: envelope.id,
      room_id: envelope.room,
      seq,
      pos,
      kind: 'envelope',
      type: 'message',
      ref: null,
      sender: envelope.sender,
      receiver: envelope.receiver,
      timestamp: envelope.timestamp,
      cid: block.cid,
      envelope: block.text,
      content: null,
      content_cid: null,
      e2ee: e2ee ? 1 : 0,
      received_at: new Date().toISOString(),
      recalled_by: null,
      pinned_by: null,
    })
    .execute()
  await db.updateTable('rooms').set({ seq, last_pos: pos }).where('id', '=', envelope.room).execute()
  await db.updateTable('counters').set({ value: pos }).where('name', '=', 'pos').execute()
  server.ctx.roomCache.clear()
}

const shown = (messages: DecryptedMessage[]) => messages.map((m) => [m.text, m.status])

/** What a second device of `client`'s wallet (no memory of what was sent) shows of a 1:1 room, by history and by stream. */
async function secondDevice(server: TestServer, client: Client, peer: string, count: number) {
  const device = newClient(server.url, client.key, { node: true })
  const history = (await device.messages(peer)).messages
  const stream = device.stream({ cursor: 0 })
  const live = messagesOf(await collect(stream, (events) => messagesOf(events).length === count))
  stream.close()
  return { history, live }
}

describe.each(DIALECTS)('own messages (%s)', (dialect) => {
  test('default: your messages are shown as yours on a device that did not send them (signature checked)', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url, undefined, { node: true })
    const bob = newClient(server.url, undefined, { node: true })
    await Promise.all([alice.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address
    await alice.send(bobAddress, 'gm')
    expect(shown((await alice.messages(bobAddress)).messages)).toEqual([['gm', 'ok']])
    const { history, live } = await secondDevice(server, alice, bobAddress, 1)
    expect(shown(history)).toEqual([['gm', 'ok']])
    expect(shown(live)).toEqual([['gm', 'ok']])
  })

  // The peer holds the pair key too: sealed by the peer (signed with its key or none), it is not shown as yours.
  attack('a forged "outgoing" message', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url, undefined, { node: true })
    const bob = newClient(server.url, undefined, { node: true })
    await Promise.all([alice.setup(), bob.setup()])
    const [a, b] = await Promise.all([keysOf(alice), keysOf(bob)])
    const real = await alice.send(b.address, 'real')
    const aliceBundle = await bob.whois(a.address)
    if (!aliceBundle.registered) throw new Error('alice has keys')
    // Bob holds the pair key too: he writes words "from" Alice, signed with his key or with none.
    for (const signingKey of [b.keys.ed25519.secretKey, crypto.randomBytes(32)]) {
      const envelope = await forge({
        header: {
          suite: P2P_SUITE,
          room: real.room,
          sender: a.address,
          receiver: b.address,
          senderKey: a.cid,
          receiverKey: b.cid,
        },
        text: 'I owe Bob 100 ETH',
        secret: b,
        peer: { x25519: aliceBundle.bundle.DMTPpubKey.x25519, address: a.address },
        signingKey,
      })
      await insertRow(server, envelope as Envelope & { receiver: string }, true)
    }
    const { history, live } = await secondDevice(server, alice, b.address, 3)
    const expected = [
      ['real', 'ok'],
      [null, 'invalid_signature'],
      [null, 'invalid_signature'],
    ]
    expect(shown(history)).toEqual(expected)
    expect(shown(live)).toEqual(expected)
    expect(history[1]).toMatchObject({ sender: a.address, problem: 'shown as sent by this wallet, but not signed by it' })
    // The sending device's own view is checked the same way (only its echoes skip the check).
    expect(shown((await alice.messages(b.address)).messages)).toEqual(expected)
  })

  // The server lacks the pair key: words "from" Bob sealed with keys of its own, or naming the key
  // bundle of another wallet (Mallory's, with her real keys) as Bob's.
  attack('a forged "incoming" 1:1 message', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, mallory] = [0, 1, 2].map(() => newClient(server.url, undefined, { node: true })) as [
      Client,
      Client,
      Client,
    ]
    await Promise.all([alice.setup(), bob.setup(), mallory.setup()])
    const [a, b, m] = await Promise.all([keysOf(alice), keysOf(bob), keysOf(mallory)])
    const real = await bob.send(a.address, 'real')
    const aliceBundle = await mallory.whois(a.address)
    if (!aliceBundle.registered) throw new Error('alice has keys')
    const header = { suite: P2P_SUITE, room: real.room, sender: b.address, receiver: a.address, receiverKey: a.cid }
    const peer = { x25519: aliceBundle.bundle.DMTPpubKey.x25519, address: a.address }
    const own = await generateDmtpKeys(crypto)
    const forgeries = [
      { senderKey: b.cid, secret: { keys: own, address: b.address } },
      { senderKey: m.cid, secret: { keys: m.keys, address: b.address } },
    ]
    for (const { senderKey, secret } of forgeries) {
      const text = 'Bob: send the funds to Mallory'
      const envelope = await forge({
        header: { ...header, senderKey },
        text,
        secret,
        peer,
        signingKey: secret.keys.ed25519.secretKey,
      })
      await insertRow(server, envelope as Envelope & { receiver: string }, true)
    }
    const { history, live } = await secondDevice(server, alice, b.address, 3)
    const expected = [
      ['real', 'ok'],
      [null, 'undecryptable'],
      [null, 'unknown_key'],
    ]
    expect(shown(history)).toEqual(expected)
    expect(shown(live)).toEqual(expected)
    expect(shown((await alice.messages(b.address)).messages)).toEqual(expected)
  })
})

/** Alice's real relayed message to a wallet with no keys, and what the server could forge with. */
async function relayedSetup(dialect: (typeof DIALECTS)[number]) {
  const server = await TestServer.create({ dialect, chain: true })
  const alice = newClient(server.url, undefined, { node: true })
  const mallory = newClient(server.url, undefined, { node: true })
  await Promise.all([alice.setup(), mallory.setup()])
  const a = await keysOf(alice)
  const m = await keysOf(mallory)
  const stranger = privateKeyToAccount(generatePrivateKey()).address
  const real = await alice.send(stranger, 'relayed for real')
  expect(real.e2ee).toBe(false)
  const aliceBundle = await mallory.whois(a.address)
  const malloryBundle = await alice.whois(m.address)
  if (!aliceBundle.registered || !malloryBundle.registered) throw new Error('both have keys')
  const relay = { suite: RELAY_SUITE, room: real.room, sender: a.address, receiver: stranger, senderKey: a.cid }
  return { server, alice, a, m, stranger, aliceBundle, malloryBundle, relay }
}

describe.each(DIALECTS)('own relayed messages (%s, anvil)', (dialect) => {
  // The server can read and write what is relayed through its key: words "from" Alice, signed by itself.
  attack('a relayed "outgoing" message forged by the server', 'at once', async () => {
    const { server, alice, a, stranger, aliceBundle, relay } = await relayedSetup(dialect)
    await using _server = server
    const operator = server.ctx.serverKey.get()
    const byServer = await forge({
      header: { ...relay, receiverKey: operator.cid },
      text: 'forged by the server',
      secret: { keys: operator.keys, address: operator.address },
      peer: { x25519: aliceBundle.bundle.DMTPpubKey.x25519, address: a.address },
      signingKey: operator.keys.ed25519.secretKey,
    })
    await insertRow(server, byServer as Envelope & { receiver: string }, false)
    const { history, live } = await secondDevice(server, alice, stranger, 2)
    const expected = [
      ['relayed for real', 'ok'],
      [null, 'invalid_signature'],
    ]
    expect(shown(history)).toEqual(expected)
    expect(shown(live)).toEqual(expected)
  })

  // Alice's own signature, but encrypted to Mallory's key instead of the server's.
  attack("a relayed message encrypted to a key that is not the server's", 'at once', async () => {
    const { server, alice, a, m, stranger, malloryBundle, relay } = await relayedSetup(dialect)
    await using _server = server
    const toMallory = await forge({
      header: { ...relay, receiverKey: m.cid },
      text: 'readable by Mallory',
      secret: a,
      peer: { x25519: malloryBundle.bundle.DMTPpubKey.x25519, address: m.address },
      signingKey: a.keys.ed25519.secretKey,
    })
    await insertRow(server, toMallory as Envelope & { receiver: string }, false)
    const { history, live } = await secondDevice(server, alice, stranger, 2)
    const expected = [
      ['relayed for real', 'ok'],
      [null, 'unknown_key'],
    ]
    expect(shown(history)).toEqual(expected)
    expect(shown(live)).toEqual(expected)
    expect(history[1]?.problem).toMatch(
      /^The server's key was refused: a relayed message names key \S+, not one of this server's\.$/,
    )
  })
})
