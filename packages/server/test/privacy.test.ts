/**
 * What the server can see: after two wallets talk over HTTP and the stream, no plaintext, no
 * wallet key, no DMTP secret key, no conversation key and no key-unlock signature appears in the
 * database (raw SQLite files including the WAL, or every PostgreSQL row), in the logs, or in any
 * response. Session tokens appear only in the sign-in response, never stored or logged.
 */
import { randomBytes } from 'node:crypto'
import { bytesToHex, deriveConversationKey, toBase64Url } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { describe, expect, test } from 'vitest'
import { DIALECTS, databaseText, TestServer, waitFor } from './_util.js'
import { api, captureResponses, TestStream, TestWallet } from './_wallet.js'

const hex = (bytes: Uint8Array) => bytesToHex(bytes).replace(/^0x/, '')

/** Every secret of a wallet that must never reach the server, as the server would see it. */
function secretsOf(name: string, wallet: TestWallet): [string, string][] {
  const unlock = wallet.signed.filter(({ message }) => message.startsWith('DMTP key unlock'))
  expect(unlock.length).toBeGreaterThan(0)
  return [
    [`${name} wallet private key`, wallet.privateKey.slice(2).toLowerCase()],
    [`${name} X25519 secret key (base64url)`, toBase64Url(wallet.keys.x25519.secretKey)],
    [`${name} X25519 secret key (hex)`, hex(wallet.keys.x25519.secretKey)],
    [`${name} Ed25519 secret key (base64url)`, toBase64Url(wallet.keys.ed25519.secretKey)],
    [`${name} Ed25519 secret key (hex)`, hex(wallet.keys.ed25519.secretKey)],
    ...unlock.map(({ signature }, i): [string, string] => [
      `${name} key-unlock signature ${i}`,
      signature.slice(2).toLowerCase(),
    ]),
  ]
}

describe.each(DIALECTS)('privacy (%s)', (dialect) => {
  test('default: plaintext and key material never reach the database, the logs or a response', async () => {
    await using server = await TestServer.create({ dialect })
    using capture = captureResponses()
    const canary = `PLAINTEXT-CANARY-${randomBytes(8).toString('hex')}`
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const room = await alice.openRoom(bob.address)

    await using bobStream = await TestStream.connect(server.wsUrl, bob.token)
    await using aliceStream = await TestStream.connect(server.wsUrl, alice.token)
    const ciphertexts: string[] = []
    for (let i = 0; i < 4; i++) {
      const fromAlice = await alice.seal(bob, `${canary} from alice #${i}`, { room })
      expect((await alice.post(fromAlice)).status).toBe(200)
      const fromBob = await bob.seal(alice, `${canary} from bob #${i}`, { room })
      aliceStream.send({ type: 'send', ref: `bob-${i}`, envelope: fromBob })
      bobStream.send({ type: 'send', ref: `bob-${i}`, envelope: fromBob })
      await bobStream.next((frame) => frame.type === 'sent' && frame.ref === `bob-${i}`)
      ciphertexts.push(fromAlice.messages, fromBob.messages)
    }
    // All eight messages reached bob's stream (cursors are stream positions: count the frames).
    await waitFor(() => bobStream.cursors().length >= 8)
    // Alice's stream tried to send bob's envelopes: refused, and the refusals are responses too.
    await aliceStream.next((frame) => frame.type === 'error' && frame.ref === 'bob-3')
    for (const wallet of [alice, bob]) {
      await api(server.url, 'GET', `/v1/rooms/${room}/messages`, { token: wallet.token })
      await api(server.url, 'GET', '/v1/inbox', { token: wallet.token })
      expect((await api(server.url, 'GET', '/v1/rooms', { token: wallet.token })).status).toBe(200)
      await api(server.url, 'GET', `/v1/keys/${wallet.address}/history`)
    }
    const conversationKey = await deriveConversationKey(crypto, {
      secretKey: alice.keys.x25519.secretKey,
      publicKey: alice.keys.x25519.publicKey,
      address: alice.address,
      peerPublicKey: bob.keys.x25519.publicKey,
      peerAddress: bob.address,
    })

    const places = {
      database: await databaseText(server),
      logs: server.logs.join('\n'),
      responses: capture.bodies.join('\n'),
    }
    // The searches are not vacuous: each place holds what it should.
    expect(places.database).toContain(ciphertexts[0])
    expect(places.responses).toContain(ciphertexts[7])
    expect(places.logs).toContain(alice.address)

    const secrets: [string, string][] = [
      ['plaintext canary', canary],
      ['conversation key (base64url)', toBase64Url(conversationKey)],
      ['conversation key (hex)', hex(conversationKey)],
      ...secretsOf('alice', alice),
      ...secretsOf('bob', bob),
    ]
    const found: string[] = []
    for (const [where, text] of Object.entries(places)) {
      const lower = text.toLowerCase()
      for (const [what, secret] of secrets) {
        if (text.includes(secret) || lower.includes(secret.toLowerCase())) found.push(`${what} in ${where}`)
      }
      // Session tokens are given to their owner once and never stored or logged.
      if (where !== 'responses') {
        for (const wallet of [alice, bob]) if (text.includes(wallet.token)) found.push(`a session token in ${where}`)
      }
    }
    expect(found).toEqual([])
  })

  test('at info, no log line ties a wallet to the client IP', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    await api(server.url, 'GET', `/v1/keys/${alice.address}`)
    const lines = server.logs.join('').split('\n').filter(Boolean)
    const requestLines = lines.filter((line) => line.includes('"req":'))
    // Not vacuous: request lines are logged, and they name the wallet in their URL.
    expect(requestLines.some((line) => line.includes(alice.address))).toBe(true)
    const aboutRequests = lines.filter((line) => line.includes('"req":') || line.includes(alice.address))
    expect(aboutRequests.filter((line) => /remoteAddress|127\.0\.0\.1|::1/.test(line))).toEqual([])
  })
})
