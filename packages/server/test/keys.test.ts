/**
 * Key bundles (PUT /v1/keys): the server stores only bundles the named wallet signed, over these
 * exact keys, for this domain and chain, with usable public keys, newer than the current one.
 * Every refusal leaves the database as it was.
 */
import { type DmtpKeys, generateDmtpKeys, hexToBytes, type KeyBundle, toBase64Url } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { attack } from '../../sdk/test/hostile/attack.js'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import { api, flipChar, TestWallet } from './_wallet.js'

/** X25519 public keys of small order (RFC 7748 §6.1 asks to reject their all-zero outputs). */
const LOW_ORDER_X25519 = {
  zero: new Uint8Array(32),
  one: hexToBytes(`0x01${'00'.repeat(31)}`),
  'order 8': hexToBytes('0xe0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
}

describe.each(DIALECTS)('keys (%s)', (dialect) => {
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ dialect })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  /** PUTs a bundle as `wallet` and checks that it changed nothing in the database. */
  async function refused(wallet: TestWallet, bundle: KeyBundle) {
    const before = await snapshotDb(server)
    const response = await wallet.putBundle(bundle)
    expect(await snapshotDb(server)).toEqual(before)
    return response
  }

  test('default: a signed bundle is stored and served to anyone', async () => {
    const alice = await new TestWallet(server.url).setup()
    const served = await api(server.url, 'GET', `/v1/keys/${alice.address}`)
    expect(served).toMatchObject({ status: 200, body: { address: alice.address, cid: alice.bundleCid, bundle: alice.bundle } })
  })

  // Signed by another wallet, or altered after signing: refused, and nothing is stored.
  attack('key substitution on the way to the server', 'at once', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const mallory = new TestWallet(server.url)
    const byMallory = (await alice.makeBundle({}, undefined, { signer: mallory })).bundle
    const response = await refused(alice, byMallory)
    expect(response.status).toBe(400)
    expect(response.body.error).toEqual({
      code: 'invalid_signature',
      message: `Invalid signature on key bundle: not signed by ${alice.address} over these keys.`,
    })

    const { bundle } = await alice.makeBundle()
    const other = await generateDmtpKeys(crypto)
    const priKey = bundle.DMTPpriKey as Extract<KeyBundle['DMTPpriKey'], { scheme: 'eip191-hkdf-aes256gcm' }>
    const altered: Record<string, KeyBundle> = {
      x25519: { ...bundle, DMTPpubKey: { ...bundle.DMTPpubKey, x25519: toBase64Url(other.x25519.publicKey) } },
      ed25519: { ...bundle, DMTPpubKey: { ...bundle.DMTPpubKey, ed25519: toBase64Url(other.ed25519.publicKey) } },
      'DMTPpriKey ciphertext': { ...bundle, DMTPpriKey: { ...priKey, ciphertext: flipChar(priKey.ciphertext) } },
      'DMTPpriKey salt': { ...bundle, DMTPpriKey: { ...priKey, salt: flipChar(priKey.salt) } },
      nonce: { ...bundle, nonce: flipChar(bundle.nonce) },
      issuedAt: { ...bundle, issuedAt: new Date(Date.parse(bundle.issuedAt) - 1).toISOString() },
    }
    for (const [what, forged] of Object.entries(altered)) {
      const response = await refused(alice, forged)
      expect({ what, status: response.status, code: response.body.error.code }).toEqual({
        what,
        status: 400,
        code: 'invalid_signature',
      })
    }
    expect((await alice.putBundle(bundle)).status).toBe(200)
  })

  test('behavior: a bundle for another wallet than the signed-in one is forbidden', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const bob = new TestWallet(server.url)
    const { bundle } = await bob.makeBundle()
    const response = await refused(alice, bundle)
    expect(response.status).toBe(403)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "forbidden",
          "message": "You can only register keys for the wallet you signed in with.",
        },
      }
    `)
  })

  test('behavior: a bundle made for another domain or chain is refused', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const domain = (await alice.makeBundle({}, undefined, { domain: 'evil.example' })).bundle
    const response = await refused(alice, domain)
    expect(response.status).toBe(400)
    expect(response.body.error).toEqual({
      code: 'invalid_key_bundle',
      message: expect.stringMatching(/^The key bundle must name domain localhost:\d+ and chain 31337\.$/),
    })
    const chain = (await alice.makeBundle({}, undefined, { chainId: 1 })).bundle
    const other = await refused(alice, chain)
    expect({ status: other.status, code: other.body.error.code }).toEqual({ status: 400, code: 'invalid_key_bundle' })
  })

  test('behavior: a low-order X25519 or Ed25519 key is refused even when signed', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const fresh = await generateDmtpKeys(crypto)
    for (const [name, publicKey] of Object.entries(LOW_ORDER_X25519)) {
      const keys: DmtpKeys = { ...fresh, x25519: { secretKey: fresh.x25519.secretKey, publicKey } }
      const response = await refused(alice, (await alice.makeBundle({}, keys)).bundle)
      expect({ name, status: response.status, body: response.body }).toEqual({
        name,
        status: 400,
        body: { error: { code: 'invalid_key_bundle', message: 'Invalid key: X25519 key is a low-order point.' } },
      })
    }
    const identity: DmtpKeys = { ...fresh, ed25519: { secretKey: fresh.ed25519.secretKey, publicKey: LOW_ORDER_X25519.one } }
    const response = await refused(alice, (await alice.makeBundle({}, identity)).bundle)
    expect(response.status).toBe(400)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_key_bundle",
          "message": "Invalid key: Ed25519 key is a small-order point.",
        },
      }
    `)
  })

  test('behavior: a bundle issued in the future is refused', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const { bundle } = await alice.makeBundle({}, undefined, { issuedAt: new Date(Date.now() + 3_600_000) })
    const response = await refused(alice, bundle)
    expect(response.status).toBe(400)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_key_bundle",
          "message": "The key bundle is issued in the future.",
        },
      }
    `)
  })

  test('behavior: a rotation must be issued after the current bundle', async () => {
    const alice = await new TestWallet(server.url).setup()
    const issuedAt = new Date(alice.bundle.issuedAt)
    for (const at of [new Date(issuedAt.getTime() - 60_000), issuedAt]) {
      const response = await refused(alice, (await alice.makeBundle({}, undefined, { issuedAt: at })).bundle)
      expect(response.status).toBe(409)
      expect(response.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "stale_key_bundle",
            "message": "A newer key bundle is already registered; a replacement must be issued later than it.",
          },
        }
      `)
    }
    expect((await api(server.url, 'GET', `/v1/keys/${alice.address}`)).body.cid).toBe(alice.bundleCid)
  })

  test('behavior: a rotation keeps the history; the old bundle stays readable by CID', async () => {
    const alice = await new TestWallet(server.url).setup()
    const first = { cid: alice.bundleCid, bundle: alice.bundle }
    await alice.setup({ issuedAt: new Date(Date.parse(first.bundle.issuedAt) + 1_000) })
    expect(alice.bundleCid).not.toBe(first.cid)

    const current = await api(server.url, 'GET', `/v1/keys/${alice.address}`)
    expect(current.body).toMatchObject({ cid: alice.bundleCid, bundle: alice.bundle })
    const history = await api(server.url, 'GET', `/v1/keys/${alice.address}/history`)
    expect(history.status).toBe(200)
    expect(history.body.bundles).toHaveLength(2)
    expect(history.body.bundles[0]).toEqual({
      cid: first.cid,
      bundle: first.bundle,
      createdAt: expect.any(String),
      replacedAt: expect.any(String),
    })
    expect(history.body.bundles[1]).toMatchObject({ cid: alice.bundleCid, bundle: alice.bundle, replacedAt: null })
    const old = await api(server.url, 'GET', `/v1/key-bundles/${first.cid}`)
    expect(old).toMatchObject({ status: 200, body: { address: alice.address, cid: first.cid, bundle: first.bundle } })
  })

  test('behavior: putting the current bundle again is idempotent and changes nothing', async () => {
    const alice = await new TestWallet(server.url).setup()
    const before = await snapshotDb(server)
    const again = await alice.putBundle(alice.bundle)
    expect(again).toMatchObject({ status: 200, body: { address: alice.address, cid: alice.bundleCid } })
    expect(await snapshotDb(server)).toEqual(before)
  })

  test('behavior: putting a replaced bundle again is refused as stale', async () => {
    const alice = await new TestWallet(server.url).setup()
    const old = alice.bundle
    await alice.setup({ issuedAt: new Date(Date.parse(old.issuedAt) + 1_000) })
    const response = await refused(alice, old)
    expect(response.status).toBe(409)
    expect(response.body.error.code).toBe('stale_key_bundle')
    expect((await api(server.url, 'GET', `/v1/keys/${alice.address}`)).body.cid).toBe(alice.bundleCid)
  })

  test('behavior: an address that never set up has no keys', async () => {
    const nobody = new TestWallet(server.url)
    for (const path of [`/v1/keys/${nobody.address}`, `/v1/keys/${nobody.address}/history`]) {
      const response = await api(server.url, 'GET', path)
      expect(response.status).toBe(404)
      expect(response.body.error).toEqual({ code: 'key_not_found', message: `${nobody.address} has not set up DMTP keys.` })
    }
  })
})
