import { generateDmtpKeys, toBase64Url, toBlock } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { createClient, KeyBundleRejectedError, RecipientNotRegisteredError, ServerKeyRejectedError } from '../src/index.js'
import { MitmProxy } from './_proxy.js'
import { collect, DIALECTS, messagesOf, newClient, TestServer } from './_util.js'
import { attack } from './hostile/attack.js'

describe.each(DIALECTS)('sdk end to end (%s)', (dialect) => {
  test('default: setup, send both ways, history, conversations', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    const bob = newClient(server.url)
    expect(await alice.setup()).toMatchObject({ created: true, scheme: 'x25519-xsalsa20-poly1305' })
    await bob.setup()

    const sent = await alice.send(bob.server && (await bob.getWallet()).address, 'hello bob 👋')
    expect(sent).toMatchObject({ seq: 1, e2ee: true })
    await bob.send((await alice.getWallet()).address, 'hi alice')

    const page = await bob.messages((await alice.getWallet()).address)
    expect(page.messages.map((m) => [m.text, m.status])).toEqual([
      ['hello bob 👋', 'ok'],
      ['hi alice', 'ok'],
    ])
    const [conversation] = await alice.conversations()
    expect(conversation).toMatchObject({ messageCount: 2, unread: 1, lastMessage: { text: 'hi alice', status: 'ok' } })
  })

  test('behavior: a viem account wallet uses the signature scheme and recovers on a new device', async () => {
    await using server = await TestServer.create({ dialect })
    const key = generatePrivateKey()
    const first = createClient({ server: server.url, wallet: privateKeyToAccount(key) })
    expect(await first.setup()).toMatchObject({ created: true, scheme: 'eip191-hkdf-aes256gcm' })
    const bob = newClient(server.url)
    await bob.setup()
    await bob.send(privateKeyToAccount(key).address, 'for your new device')

    const secondDevice = createClient({ server: server.url, wallet: privateKeyToAccount(key) })
    const recovered = await secondDevice.setup()
    expect(recovered).toMatchObject({ created: false, scheme: 'eip191-hkdf-aes256gcm' })
    const page = await secondDevice.messages((await bob.getWallet()).address)
    expect(page.messages[0]).toMatchObject({ text: 'for your new device', status: 'ok' })
  })

  test('behavior: key rotation keeps old messages readable', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    const bob = newClient(server.url)
    await alice.setup()
    await bob.setup()
    const bobAddress = (await bob.getWallet()).address
    await alice.send(bobAddress, 'before rotation')
    const rotated = await bob.setup({ rotate: true })
    expect(rotated.replaced).not.toBeNull()
    await alice.send(bobAddress, 'after rotation')
    const page = await newClient(server.url, bob.key).messages((await alice.getWallet()).address)
    expect(page.messages.map((m) => m.text)).toEqual(['before rotation', 'after rotation'])
    expect(page.messages[0]?.cid).not.toBe(page.messages[1]?.cid)
  })

  test('behavior: sending to a wallet without keys says so', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    await alice.setup()
    const stranger = privateKeyToAccount(generatePrivateKey()).address
    await expect(alice.send(stranger, 'anyone there?', { relay: false })).rejects.toBeInstanceOf(RecipientNotRegisteredError)
    // Relaying (the default) needs a server key the client can check against a registry; this server has none.
    await expect(alice.send(stranger, 'anyone there?')).rejects.toBeInstanceOf(ServerKeyRejectedError)
    expect(await alice.whois(stranger)).toEqual({ registered: false, address: stranger })
  })

  // Another X25519 or Ed25519 key in the bundle answer, its CID kept or made to match: the wallet
  // signed other keys, so nothing is encrypted to the substitute and whois says why.
  attack('key substitution in transit', 'at once', async () => {
    await using proxy = await MitmProxy.create()
    await using server = await TestServer.create({
      dialect,
      configure: (c) => {
        c.service.publicUrl = proxy.url
      },
    })
    proxy.target = server.server.port
    const [alice, bob] = [newClient(proxy.url), newClient(proxy.url)]
    await Promise.all([alice.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address
    const substitute = await generateDmtpKeys(crypto)
    const before = await server.ctx.database.db.selectFrom('messages').select('id').execute()
    for (const key of ['x25519', 'ed25519'] as const) {
      for (const cid of ['kept', 'matched'] as const) {
        proxy.rewriteJson = (path, body) => {
          if (path !== `/v1/keys/${bobAddress}`) return body
          const bundle = {
            ...body.bundle,
            DMTPpubKey: { ...body.bundle.DMTPpubKey, [key]: toBase64Url(substitute[key].publicKey) },
          }
          return { ...body, bundle, cid: cid === 'kept' ? body.cid : toBlock(bundle, crypto.sha256).cid }
        }
        const fresh = newClient(proxy.url, alice.key)
        const error = await fresh.send(bobAddress, 'to a substitute key?').catch((e: unknown) => e)
        expect(error, `${key}, CID ${cid}`).toBeInstanceOf(KeyBundleRejectedError)
        expect(await fresh.whois(bobAddress), `${key}, CID ${cid}`).toMatchObject({
          registered: true,
          verified: false,
          problem: expect.stringMatching(cid === 'kept' ? /its CID is \S+, not \S+/ : /the wallet did not sign these keys/),
        })
      }
    }
    expect(await server.ctx.database.db.selectFrom('messages').select('id').execute()).toEqual(before)
    proxy.rewriteJson = undefined
    expect(await newClient(proxy.url, alice.key).send(bobAddress, 'to the real key')).toMatchObject({ e2ee: true })
  })

  test('behavior: stream delivers history then live, in order, once; resumes after a server restart', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    const bob = newClient(server.url)
    await alice.setup()
    await bob.setup()
    const bobAddress = (await bob.getWallet()).address
    for (let i = 0; i < 3; i++) await alice.send(bobAddress, `history ${i}`)

    const live = bob.stream({ cursor: 0 })
    const first = await collect(live, (events) => messagesOf(events).length === 3 && events.some((e) => e.type === 'caught_up'))
    expect(messagesOf(first).map((m) => m.text)).toEqual(['history 0', 'history 1', 'history 2'])

    const sending = (async () => {
      for (let i = 0; i < 5; i++) await alice.send(bobAddress, `live ${i}`)
    })()
    const second = await collect(live, (events) => messagesOf(events).length === 5)
    await sending
    expect(messagesOf(second).map((m) => m.text)).toEqual(['live 0', 'live 1', 'live 2', 'live 3', 'live 4'])

    await server.restart()
    for (let i = 0; i < 2; i++) await alice.send(bobAddress, `after restart ${i}`)
    const third = await collect(live, (events) => messagesOf(events).length === 2, 20_000)
    expect(third.some((e) => e.type === 'disconnected')).toBe(true)
    expect(third.some((e) => e.type === 'connected' && e.resumed)).toBe(true)
    expect(messagesOf(third).map((m) => m.text)).toEqual(['after restart 0', 'after restart 1'])
    expect(live.cursor).toBe(10)
    live.close()
  })
})
