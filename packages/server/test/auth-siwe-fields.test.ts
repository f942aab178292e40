/**
 * Every field of a Sign-In with Ethereum message is checked against this server's configuration,
 * never against what the message says: domain, URI, chain id, version, nonce, Issued At,
 * Expiration Time, Not Before, and the signer. Each test tries to get a session with one field
 * wrong; each refusal has a stable code and leaves the database as it was. The published spruceid
 * vectors (real signatures) run against servers configured as the vectors' sites.
 */
import { formatSignInMessage, type SignInFields } from '@dmtp/protocol'
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadVectors } from '../../protocol/test/_util.js'
import { attack } from '../../sdk/test/hostile/attack.js'
import { ConfigError, envToConfig, readEnv, type ServerConfig } from '../src/index.js'
import { DIALECTS, rowCounts, snapshotDb, TestClock, TestServer } from './_util.js'
import { api, TestWallet } from './_wallet.js'

const SKEW_MS = 60_000
const NONCE_TTL_MS = 300_000

type Attempt = { status: number; code: string | undefined; message: string | undefined }

/** A sign-in message for `server`, correct in every field unless overridden. */
async function messageFor(server: TestServer, wallet: TestWallet, clock: TestClock, overrides: Partial<SignInFields> = {}) {
  const { nonce } = (await api(baseOf(server), 'POST', '/v1/auth/nonce')).body
  const url = new URL(server.url)
  return formatSignInMessage({
    domain: url.host,
    address: wallet.address,
    statement: 'Sign in to DMTP',
    uri: url.origin,
    version: '1',
    chainId: server.ctx.identity.chainId,
    nonce,
    issuedAt: clock.now().toISOString(),
    ...overrides,
  })
}

/** Where the test reaches the server (its public URL may name a site the test cannot reach). */
function baseOf(server: TestServer): string {
  return `http://localhost:${server.server.port}`
}

async function post(server: TestServer, message: string, signature: string): Promise<Attempt> {
  const response = await api(baseOf(server), 'POST', '/v1/auth/verify', { body: { message, signature } })
  return { status: response.status, code: response.body?.error?.code, message: response.body?.error?.message }
}

// What a sign-in writes (other tables change in the background, e.g. the server key's manifest).
const AUTH_TABLES = ['users', 'sessions', 'auth_nonces'] as const

/** Posts a sign-in that must be refused, and checks that it changed nothing. */
async function refused(server: TestServer, message: string, signature: string): Promise<Attempt> {
  const before = await snapshotDb(server, AUTH_TABLES)
  const attempt = await post(server, message, signature)
  expect(await snapshotDb(server, AUTH_TABLES)).toEqual(before)
  return attempt
}

const at = (clock: TestClock, offsetMs: number) => new Date(clock.now().getTime() + offsetMs).toISOString()

describe.each(DIALECTS)('POST /v1/auth/verify checks every SIWE field (%s)', (dialect) => {
  let server: TestServer
  let clock: TestClock
  let port: number
  beforeAll(async () => {
    clock = new TestClock()
    server = await TestServer.create({ dialect, clock })
    port = server.server.port
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  /** Signs `overrides` as a new wallet and expects the refusal `expected`; the nonce stays usable. */
  async function expectRefused(overrides: Partial<SignInFields>, expected: Omit<Attempt, 'message'>) {
    const wallet = new TestWallet(server.url)
    const message = await messageFor(server, wallet, clock, overrides)
    const attempt = await refused(server, message, await wallet.signMessage(message))
    expect({ overrides, status: attempt.status, code: attempt.code }).toEqual({ overrides, ...expected })
    return attempt
  }

  async function expectAccepted(overrides: Partial<SignInFields>) {
    const wallet = new TestWallet(server.url)
    const message = await messageFor(server, wallet, clock, overrides)
    const attempt = await post(server, message, await wallet.signMessage(message))
    expect({ overrides, ...attempt }).toEqual({ overrides, status: 200, code: undefined, message: undefined })
  }

  test('default: a message correct in every field gets a session', async () => {
    const before = await rowCounts(server, ['sessions'])
    await expectAccepted({ expirationTime: at(clock, 600_000) })
    expect((await rowCounts(server, ['sessions'])).sessions).toBe(before.sessions + 1)
  })

  // Any domain but the configured public host: siwe_domain_mismatch.
  attack('a sign-in message for another domain', 'at once', async () => {
    const attempt = await expectRefused({ domain: 'evil.example' }, { status: 401, code: 'siwe_domain_mismatch' })
    expect(attempt.message).toBe(`Sign-in rejected: the message was made for another domain. Sign in to localhost:${port}.`)
    // Names that reach the same server are still other domains: only the configured one counts.
    for (const domain of [`127.0.0.1:${port}`, `localhost:${port + 1}`, 'localhost', `alice@localhost:${port}`]) {
      await expectRefused({ domain }, { status: 401, code: 'siwe_domain_mismatch' })
    }
  })

  // A scheme before the domain must be the server's own.
  attack('a sign-in message for another scheme', 'at once', async () => {
    await expectRefused({ scheme: 'https' }, { status: 401, code: 'siwe_domain_mismatch' })
    await expectAccepted({ scheme: 'http' })
  })

  // Off the configured origin: siwe_uri_mismatch (a path on it is fine).
  attack('a sign-in message for another URI', 'at once', async () => {
    const attempt = await expectRefused({ uri: 'https://evil.example' }, { status: 401, code: 'siwe_uri_mismatch' })
    expect(attempt.message).toBe(
      `Sign-in rejected: the message was made for another site (its URI is not on this server). Sign in with a URI on http://localhost:${port}.`,
    )
    const others = [
      `https://localhost:${port}`,
      `http://localhost:${port + 1}`,
      `http://127.0.0.1:${port}`,
      `http://evil.example@localhost:${port}`,
      'urn:dmtp:localhost',
    ]
    for (const uri of others) await expectRefused({ uri }, { status: 401, code: 'siwe_uri_mismatch' })
    await expectAccepted({ uri: `http://localhost:${port}/sign-in` })
  })

  // siwe_chain_mismatch.
  attack('a sign-in message for another chain', 'at once', async () => {
    const attempt = await expectRefused({ chainId: 1 }, { status: 401, code: 'siwe_chain_mismatch' })
    expect(attempt.message).toBe('Sign-in rejected: the message names another chain. Sign in on chain 31337.')
    await expectRefused({ chainId: 31_338 }, { status: 401, code: 'siwe_chain_mismatch' })
  })

  test('behavior: a version other than 1 is refused (invalid_siwe_message)', async () => {
    const wallet = new TestWallet(server.url)
    const message = (await messageFor(server, wallet, clock)).replace('Version: 1', 'Version: 2')
    const attempt = await refused(server, message, await wallet.signMessage(message))
    expect(attempt).toEqual({
      status: 400,
      code: 'invalid_siwe_message',
      message: 'Sign-in rejected: the message is not a valid EIP-4361 message.',
    })
  })

  // A nonce is single use, even under concurrent sign-ins with it.
  attack('a sign-in replayed with its used nonce', 'at once', async () => {
    const wallet = new TestWallet(server.url)
    const message = await messageFor(server, wallet, clock)
    const signature = await wallet.signMessage(message)
    const before = await rowCounts(server, ['sessions'])
    const attempts = await Promise.all(Array.from({ length: 6 }, () => post(server, message, signature)))
    expect(attempts.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401, 401])
    expect(attempts.filter((a) => a.status === 401).every((a) => a.code === 'nonce_invalid')).toBe(true)
    expect((await rowCounts(server, ['sessions'])).sessions).toBe(before.sessions + 1)
  })

  // Refused, though the message is freshly dated.
  attack('a sign-in with a nonce past its lifetime', 'at once', async () => {
    const wallet = new TestWallet(server.url)
    const { nonce } = (await api(server.url, 'POST', '/v1/auth/nonce')).body
    clock.advance(NONCE_TTL_MS + 1_000)
    const message = await messageFor(server, wallet, clock, { nonce })
    const attempt = await refused(server, message, await wallet.signMessage(message))
    expect({ status: attempt.status, code: attempt.code }).toEqual({ status: 401, code: 'nonce_invalid' })
  })

  // Beyond the skew: siwe_issued_in_future.
  attack('a sign-in message dated in the future', 'at once', async () => {
    const attempt = await expectRefused({ issuedAt: at(clock, 24 * 3600_000) }, { status: 401, code: 'siwe_issued_in_future' })
    expect(attempt.message).toBe('Sign-in rejected: the message is dated in the future.')
    await expectRefused({ issuedAt: at(clock, SKEW_MS + 5_000) }, { status: 401, code: 'siwe_issued_in_future' })
    await expectAccepted({ issuedAt: at(clock, SKEW_MS - 30_000) })
  })

  // Older than a nonce lifetime (plus skew): siwe_issued_too_long_ago.
  attack('a sign-in message issued too long ago', 'at once', async () => {
    const attempt = await expectRefused(
      { issuedAt: at(clock, -(NONCE_TTL_MS + SKEW_MS + 5_000)) },
      { status: 401, code: 'siwe_issued_too_long_ago' },
    )
    expect(attempt.message).toBe('Sign-in rejected: the message was issued too long ago.')
    await expectRefused({ issuedAt: '2022-01-27T17:09:38.578Z' }, { status: 401, code: 'siwe_issued_too_long_ago' })
    await expectAccepted({ issuedAt: at(clock, -200_000) })
  })

  // siwe_expired.
  attack('an expired sign-in message', 'at once', async () => {
    const attempt = await expectRefused({ expirationTime: at(clock, -1_000) }, { status: 401, code: 'siwe_expired' })
    expect(attempt.message).toBe('Sign-in rejected: the message has expired.')
    // No skew for expiry: a message its signer said is dead is dead.
    await expectRefused(
      { issuedAt: at(clock, -10_000), expirationTime: at(clock, -5_000) },
      { status: 401, code: 'siwe_expired' },
    )
  })

  // Beyond the skew: siwe_not_yet_valid.
  attack('a sign-in message not valid yet', 'at once', async () => {
    const attempt = await expectRefused({ notBefore: at(clock, 3600_000) }, { status: 401, code: 'siwe_not_yet_valid' })
    expect(attempt.message).toBe('Sign-in rejected: the message is not valid yet.')
    await expectRefused({ notBefore: at(clock, SKEW_MS + 5_000) }, { status: 401, code: 'siwe_not_yet_valid' })
    await expectAccepted({ notBefore: at(clock, 20_000) })
    await expectAccepted({ notBefore: at(clock, -20_000) })
  })

  test('behavior: the address must be the signer (invalid_signature), in EIP-55 form (invalid_siwe_message)', async () => {
    const alice = new TestWallet(server.url)
    const mallory = new TestWallet(server.url)
    const message = await messageFor(server, alice, clock)
    const bySomeoneElse = await refused(server, message, await mallory.signMessage(message))
    expect(bySomeoneElse).toEqual({
      status: 400,
      code: 'invalid_signature',
      message: 'Sign-in rejected: the signature is not from the address in the message.',
    })
    // Alice's signature of another message (another nonce) does not sign this one.
    const other = await messageFor(server, alice, clock)
    expect((await refused(server, message, await alice.signMessage(other))).code).toBe('invalid_signature')
    const good = await alice.signMessage(message)
    const flipped = `${good.slice(0, 10)}${good[10] === '0' ? '1' : '0'}${good.slice(11)}`
    for (const signature of [`0x${'00'.repeat(65)}`, flipped]) {
      expect((await refused(server, message, signature)).code).toBe('invalid_signature')
    }
    for (const signature of ['0x', 'not hex', `${good}0`]) {
      expect(await refused(server, message, signature)).toMatchObject({ status: 400, code: 'validation_failed' })
    }
    const lowercase = await messageFor(server, alice, clock, { address: alice.address.toLowerCase() })
    expect((await refused(server, lowercase, await alice.signMessage(lowercase))).code).toBe('invalid_siwe_message')
    // After all that, the right signature still signs in: no refusal burnt the nonce.
    expect((await post(server, message, await alice.signMessage(message))).status).toBe(200)
  })
})

describe.each(DIALECTS)('POST /v1/auth/verify clock skew setting (%s)', (dialect) => {
  test('behavior: DMTP_SIGN_IN_CLOCK_SKEW_SECONDS narrows what Issued At and Not Before may be ahead', async () => {
    const clock = new TestClock()
    const configure = (c: ServerConfig) => {
      c.auth.clockSkewSeconds = 5
    }
    await using server = await TestServer.create({ dialect, clock, configure })
    const wallet = new TestWallet(server.url)
    const cases: [Partial<SignInFields>, number, string | undefined][] = [
      [{ issuedAt: at(clock, 10_000) }, 401, 'siwe_issued_in_future'],
      [{ notBefore: at(clock, 10_000) }, 401, 'siwe_not_yet_valid'],
      [{ issuedAt: at(clock, -(NONCE_TTL_MS + 10_000)) }, 401, 'siwe_issued_too_long_ago'],
      [{ issuedAt: at(clock, 2_000) }, 200, undefined],
    ]
    for (const [overrides, status, code] of cases) {
      const message = await messageFor(server, wallet, clock, overrides)
      const attempt = await post(server, message, await wallet.signMessage(message))
      expect({ overrides, status: attempt.status, code: attempt.code }).toEqual({ overrides, status, code })
    }
  })

  test('behavior: the variable defaults to 60 s and refuses what is not a number of seconds up to 3600', () => {
    expect(envToConfig(readEnv({})).auth.clockSkewSeconds).toBe(60)
    expect(envToConfig(readEnv({ DMTP_SIGN_IN_CLOCK_SKEW_SECONDS: '0' })).auth.clockSkewSeconds).toBe(0)
    for (const value of ['-1', '3601', 'soon', '1.5']) {
      expect(() => readEnv({ DMTP_SIGN_IN_CLOCK_SKEW_SECONDS: value })).toThrow(ConfigError)
    }
  })
})

type Vector = SignInFields & { signature: string }
const vectors = (file: string) => loadVectors<Record<string, Vector>>(`siwe/${file}`)

/** A vector's message, formatted from its fields as its signer did. */
function vectorMessage(vector: Vector): string {
  const { signature: _signature, ...fields } = vector as Vector & Record<string, unknown>
  for (const extra of ['time', 'domainBinding', 'matchNonce']) delete fields[extra]
  return formatSignInMessage(fields as SignInFields)
}

describe.each(DIALECTS)('POST /v1/auth/verify with the published SIWE vectors (%s)', (dialect) => {
  const positive = vectors('verification_positive.json')
  const negative = vectors('verification_negative.json')
  let server: TestServer
  const clock = new TestClock()
  /** Sets the server clock to `iso` (the vectors were signed in 2022). */
  const setTime = (iso: string) => clock.advance(Date.parse(iso) - clock.now().getTime())
  beforeAll(async () => {
    server = await TestServer.create({
      dialect,
      clock,
      configure: (c) => {
        c.service.publicUrl = 'https://login.xyz'
        c.service.chainId = 1
      },
    })
    // The vectors' nonces, as if this server had issued them when they were signed.
    const db = server.ctx.database.db as unknown as Kysely<any>
    for (const vector of [...Object.values(positive), ...Object.values(negative)]) {
      const issued = Date.parse(vector.issuedAt)
      if (Number.isNaN(issued)) continue
      await db
        .insertInto('auth_nonces')
        .values({
          nonce: vector.nonce,
          created_at: new Date(issued - 1_000).toISOString(),
          expires_at: new Date(issued + NONCE_TTL_MS).toISOString(),
          used_at: null,
        })
        .onConflict((oc) => oc.column('nonce').doNothing())
        .execute()
    }
  })
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]()
  })

  test('default: the example message, at the time it was signed, gets a session once', async () => {
    const vector = positive['example message'] as Vector
    setTime(vector.issuedAt)
    const message = vectorMessage(vector)
    const signedIn = await api(baseOf(server), 'POST', '/v1/auth/verify', { body: { message, signature: vector.signature } })
    expect(signedIn).toMatchObject({ status: 200, body: { address: vector.address } })
    expect(await refused(server, message, vector.signature)).toMatchObject({ status: 401, code: 'nonce_invalid' })
  })

  test('behavior: each negative vector is refused for its own reason', async () => {
    const expected: Record<string, string> = {
      'expired message': 'siwe_expired',
      'not yet valid': 'siwe_not_yet_valid',
      // 131 hex digits: refused by the request schema before any check of the message.
      'malformed signature': 'validation_failed',
      'wrong signature': 'invalid_signature',
      'invalid issuedAt': 'invalid_siwe_message',
      'invalid notBefore': 'invalid_siwe_message',
      'invalid expirationTime': 'invalid_siwe_message',
      // Signed for login.xyz, which this server is; its extra rule (another time) is checked below.
      'custom time': 'siwe_expired',
    }
    const outcomes: Record<string, string | undefined> = {}
    for (const [name, vector] of Object.entries(negative)) {
      if (!(name in expected)) continue
      setTime(name === 'custom time' ? '2200-01-05T00:00:00Z' : vector.issuedAt.replace('02-31', '02-28'))
      outcomes[name] = (await refused(server, vectorMessage(vector), vector.signature)).code
    }
    expect(outcomes).toEqual(expected)
  })

  test('behavior: vectors plain SIWE accepts at their chosen time are refused here for their Issued At', async () => {
    // Checked in 2020, the message says it was issued in 2022; checked in 2101, it is 79 years old.
    const early = positive['expired message'] as Vector
    setTime('2020-01-05T00:00:00Z')
    expect((await refused(server, vectorMessage(early), early.signature)).code).toBe('siwe_issued_in_future')
    const late = positive['not yet valid'] as Vector
    setTime('2101-01-07T14:31:43.952Z')
    expect((await refused(server, vectorMessage(late), late.signature)).code).toBe('siwe_issued_too_long_ago')
  })

  // Refused by a server that is not that site, vectors' site or not.
  attack('a real sign-in signature for another site', 'at once', async () => {
    const tally = positive['recovery byte starting at 0'] as Vector
    setTime(tally.issuedAt)
    expect(await refused(server, vectorMessage(tally), tally.signature)).toMatchObject({
      status: 401,
      code: 'siwe_domain_mismatch',
    })
    // Relayed to this (real, unrelated) server today, as a phishing site would.
    const example = positive['example message'] as Vector
    await using elsewhere = await TestServer.create({ dialect })
    const relayed = await api(elsewhere.url, 'POST', '/v1/auth/verify', {
      body: { message: vectorMessage(example), signature: example.signature },
    })
    expect({ status: relayed.status, code: relayed.body.error.code }).toEqual({ status: 401, code: 'siwe_domain_mismatch' })
    expect((await rowCounts(elsewhere, ['sessions'])).sessions).toBe(0)
  })
})
