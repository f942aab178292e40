/**
 * Signed receipts (issue 16 item 2, protocol.md §5.6): every path that acknowledges a send — a
 * 1:1 message over HTTP and over the stream, a relayed one (pattern β), a message of a room
 * without E2EE and its reactions, edits, recalls and pins, a retry answered from what is stored —
 * carries a receipt that verifies with the server key; the acks of one transaction share one
 * signature.
 */
import {
  deriveConversationKey,
  type EnvelopeHeader,
  fromBase64Url,
  RELAY_SUITE,
  type SignedAck,
  sealEnvelope,
  signAuthor,
  toBase64Url,
  toBlock,
  verifyReceipt,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { GroupWallet } from './_rooms.js'
import { DIALECTS, TestServer } from './_util.js'
import { api, TestStream, TestWallet } from './_wallet.js'

/** Checks `ack` is a receipted ack of the server's current key; returns it. */
async function expectReceipted(server: TestServer, ack: SignedAck): Promise<SignedAck> {
  const key = server.ctx.serverKey.get()
  expect(ack.receipt).toMatchObject({ key: key.cid, root: expect.any(String), signature: expect.any(String) })
  expect(await verifyReceipt(crypto, ack, key.keys.ed25519.publicKey)).toBe(true)
  // The same ack with another position must not verify (the receipt binds it).
  expect(await verifyReceipt(crypto, { ...ack, seq: ack.seq + 1 }, key.keys.ed25519.publicKey)).toBe(false)
  return ack
}

describe.each(DIALECTS)('receipts (%s)', (dialect) => {
  test('default: a 1:1 send over HTTP and over the stream carries a receipt of the server key', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const sent = await alice.send(bob, 'hello')
    expect(sent.status).toBe(200)
    const ack = await expectReceipted(server, sent.body)
    expect(ack).toMatchObject({ id: expect.any(String), seq: 1, e2ee: true })
    const published = await api(server.url, 'GET', '/v1/server-key')
    expect(published.body.cid).toBe(ack.receipt.key)
    expect(fromBase64Url(published.body.bundle.DMTPpubKey.ed25519)).toEqual(server.ctx.serverKey.get().keys.ed25519.publicKey)

    const stream = await TestStream.connect(server.wsUrl, alice.token)
    const envelope = await alice.seal(bob, 'over the stream')
    stream.send({ type: 'send', ref: 'r1', envelope })
    const frame = await stream.next<{ type: 'sent'; ref: string; result: SignedAck }>((f) => f.type === 'sent')
    await expectReceipted(server, frame.result)
    expect(frame.result).toMatchObject({ id: envelope.id, cid: toBlock(envelope).cid, seq: 2 })
    stream.close()
  })

  test('default: a relayed message (pattern β) carries a receipt', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    const receiver = privateKeyToAccount(generatePrivateKey()).address
    const room = await alice.openRoom(receiver)
    const serverKey = server.ctx.serverKey.get()
    const key = await deriveConversationKey(crypto, {
      secretKey: alice.keys.x25519.secretKey,
      publicKey: alice.keys.x25519.publicKey,
      address: alice.address,
      peerPublicKey: serverKey.keys.x25519.publicKey,
      peerAddress: serverKey.address,
    })
    const header = {
      v: 1,
      suite: RELAY_SUITE,
      id: toBase64Url(crypto.randomBytes(16)),
      room,
      sender: alice.address,
      receiver,
      timestamp: new Date().toISOString(),
      senderKey: alice.bundleCid,
      receiverKey: serverKey.cid,
    } as EnvelopeHeader
    const author = await signAuthor(crypto, {
      message: { ...header, text: 'welcome' },
      signingKey: alice.keys.ed25519.secretKey,
      key: alice.bundleCid,
    })
    const envelope = await sealEnvelope(crypto, {
      header,
      content: { type: 'text', text: 'welcome', author },
      key,
      signingKey: alice.keys.ed25519.secretKey,
    })
    const sent = await alice.post(envelope)
    expect(sent.status).toBe(200)
    expect(await expectReceipted(server, sent.body)).toMatchObject({ e2ee: false, cid: toBlock(envelope).cid })
  })

  test('default: messages, reactions, edits, recalls and pins of a room without E2EE carry receipts', async () => {
    await using server = await TestServer.create({ dialect })
    const owner = await GroupWallet.create(server)
    const room = await owner.createRoom()
    const said = await owner.say(room, 'gm')
    expect(said.status).toBe(200)
    await expectReceipted(server, said.body)
    const id = said.body.id as string
    const answers = [
      await owner.react(room, id),
      await owner.edit(room, id, 'gm all'),
      await owner.plain(room, 'pin', id),
      await owner.plain(room, 'recall', id),
    ]
    for (const answer of answers) {
      expect(answer.status).toBe(200)
      await expectReceipted(server, answer.body)
    }
    expect(answers.map((answer) => answer.body.seq)).toEqual([3, 4, 5, 6])
  })

  test('security: a retry is answered with the first result and a receipt over the stored row', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const envelope = await alice.seal(bob, 'once')
    const first = (await alice.post(envelope)).body as SignedAck
    await expectReceipted(server, first)
    // Answered by the writer from the stored row.
    const again = await alice.post(envelope)
    expect(again.status).toBe(200)
    await expectReceipted(server, again.body)
    expect(again.body).toMatchObject({ id: first.id, cid: first.cid, seq: first.seq, receivedAt: first.receivedAt })
    // After a key rotation the retry fails a check (stale_key): answered from the stored row too.
    await alice.setup()
    const late = await alice.post(envelope)
    expect(late.status).toBe(200)
    await expectReceipted(server, late.body)
    expect(late.body).toMatchObject({ id: first.id, cid: first.cid, seq: first.seq, receivedAt: first.receivedAt })
    expect(late.body.receipt.proof).toEqual([])
  })

  test('behavior: the acks of one transaction share one root and one signature', async () => {
    await using server = await TestServer.create({ dialect })
    const wallets = await Promise.all(Array.from({ length: 8 }, () => new TestWallet(server.url).setup()))
    const envelopes = await Promise.all(
      wallets.flatMap((wallet, i) =>
        Array.from({ length: 6 }, () => wallet.seal(wallets[(i + 1) % wallets.length] as TestWallet, 'batched')),
      ),
    )
    const acks = (
      await Promise.all(envelopes.map((envelope, i) => (wallets[Math.floor(i / 6)] as TestWallet).post(envelope)))
    ).map((response) => {
      expect(response.status).toBe(200)
      return response.body as SignedAck
    })
    for (const ack of acks) await expectReceipted(server, ack)
    const byRoot = new Map<string, SignedAck[]>()
    for (const ack of acks) byRoot.set(ack.receipt.root, [...(byRoot.get(ack.receipt.root) ?? []), ack])
    for (const group of byRoot.values()) {
      expect(new Set(group.map((ack) => ack.receipt.signature)).size).toBe(1)
      expect(new Set(group.map((ack) => ack.receipt.proof.join())).size).toBe(group.length)
    }
    expect(new Set(acks.map((ack) => ack.receipt.signature)).size).toBe(byRoot.size)
    // 48 concurrent sends do not take 48 transactions: some share a signature.
    expect(byRoot.size).toBeLessThan(acks.length)
    expect(Math.max(...[...byRoot.values()].map((group) => group.length))).toBeGreaterThan(1)
  })
})
