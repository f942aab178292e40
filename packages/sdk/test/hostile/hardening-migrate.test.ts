/**
 * Issue 16 item 8: `migrate()` and `setup()` cannot be made to spin. A real proxy in front of a real
 * server rewrites the pattern β listing (`GET /v1/migrations`) and upload answers to say there is
 * always more to migrate: replaying a page already handled, serving empty pages, or sending the
 * cursor round to the first page. Each call must stop within a few requests and a deadline, say
 * why (`stopped`), and leave the real migration done.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect } from 'vitest'
import type { DialectName } from '../../../server/test/_util.js'
import { createClient, privateKeyWallet } from '../../src/index.js'
import { MitmProxy, type ProxiedRequest } from '../_proxy.js'
import { DIALECTS, newClient, TestServer } from '../_util.js'
import { attack } from './attack.js'

const FOREVER = 1_000

/** A server behind a proxy; `count` messages relayed to a wallet with no keys yet (pattern β). */
async function relayed(dialect: DialectName, count: number) {
  const proxy = await MitmProxy.create()
  const server = await TestServer.create({
    dialect,
    chain: true,
    configure: (c) => {
      c.service.publicUrl = proxy.url
      Object.assign(c.limits, { messagesPerSecond: 10_000, messageBurst: 10_000, requestsPerMinute: 100_000 })
    },
  })
  proxy.target = server.server.port
  const alice = newClient(proxy.url, undefined, { node: true })
  await alice.setup()
  const bobKey = generatePrivateKey()
  const bob = privateKeyToAccount(bobKey).address
  const texts = Array.from({ length: count }, (_, i) => `relayed ${i}`)
  for (let i = 0; i < texts.length; i += 50) await Promise.all(texts.slice(i, i + 50).map((text) => alice.send(bob, text)))
  const bobClient = () => createClient({ server: proxy.url, wallet: privateKeyWallet(bobKey) })
  const dispose = async () => {
    await server[Symbol.asyncDispose]()
    await proxy[Symbol.asyncDispose]()
  }
  return { proxy, server, alice, bob, bobKey, bobClient, texts, [Symbol.asyncDispose]: dispose }
}

const isListing = (request: ProxiedRequest) => request.path === '/v1/migrations' && request.method === 'GET'
const isUpload = (request: ProxiedRequest) => request.path === '/v1/migrations' && request.method === 'POST'

/** Relayed messages still stored for `address` (what the server, not the proxy, holds). */
async function stillRelayed(server: TestServer, address: string): Promise<number> {
  const rows = await server.ctx.database.db
    .selectFrom('messages')
    .select('id')
    .where('receiver', '=', address)
    .where('e2ee', '=', 0)
    .execute()
  return rows.length
}

for (const dialect of DIALECTS) {
  describe(`migrate against a server that always says there is more (${dialect}, anvil)`, () => {
    // Ends the call after one pass, for setup and for migrate.
    attack('a migration page replayed for ever', 'at once', async () => {
      await using setup = await relayed(dialect, 3)
      // The first full page with handoffs is replayed, and every answer says 1,000 remain.
      let replay: string | undefined
      setup.proxy.rewrite = (request, answer) => {
        if (answer.status !== 200 || !(isListing(request) || isUpload(request))) return undefined
        const body = JSON.parse(answer.body)
        if (isListing(request)) {
          if (body.handoffs.length > 0 && request.query.get('limit') === '500') replay ??= answer.body
          return JSON.stringify({ ...(replay ? JSON.parse(replay) : body), remaining: FOREVER })
        }
        return JSON.stringify({ ...body, remaining: FOREVER })
      }
      const started = Date.now()
      const result = await setup.bobClient().setup()
      expect(result.migration).toEqual({ migrated: 3, remaining: FOREVER, stopped: 'no_progress' })
      expect(Date.now() - started).toBeLessThan(15_000)
      // One look at what waits, the listings until the handoffs are prepared, one upload, one more listing.
      expect(setup.proxy.count('/v1/migrations', 'POST')).toBe(1)
      expect(setup.proxy.count('/v1/migrations', 'GET')).toBeLessThanOrEqual(10)
      expect(await stillRelayed(setup.server, setup.bob)).toBe(0)

      const before = setup.proxy.count('/v1/migrations')
      const again = await setup.bobClient().migrate()
      expect(again).toEqual({ migrated: 0, alreadyMigrated: 3, rejected: [], remaining: FOREVER, stopped: 'no_progress' })
      // The replayed page once, its upload (the server: already migrated), the page again: stop.
      expect(setup.proxy.count('/v1/migrations') - before).toBe(3)
    })

    // Ends the wait with backoff, at waitMs or deadlineMs.
    attack('empty migration pages that say more remain', 'at once', async () => {
      await using setup = await relayed(dialect, 2)
      // Nothing is ever listed; during setup none are said to wait, then 1,000 for ever.
      let remaining = 0
      setup.proxy.rewrite = (request, answer) =>
        isListing(request) && answer.status === 200 ? JSON.stringify({ handoffs: [], remaining, next: null }) : undefined
      const bob = setup.bobClient()
      expect(await bob.setup()).toMatchObject({ created: true, migration: { migrated: 0, remaining: 0 } })
      remaining = FOREVER

      const listed = setup.proxy.count('/v1/migrations', 'GET')
      const started = Date.now()
      const waited = await bob.migrate({ waitMs: 3_000 })
      const elapsed = Date.now() - started
      expect(waited).toEqual({ migrated: 0, alreadyMigrated: 0, rejected: [], remaining: FOREVER, stopped: 'waiting' })
      expect(elapsed).toBeLessThan(4_500)
      // 250 + 500 + 1,000 ms of backoff fit in 3 s, and a fourth wait (2 s) would not: 4 listings.
      expect(setup.proxy.count('/v1/migrations', 'GET') - listed).toBe(4)

      const cut = await bob.migrate({ waitMs: 60_000, deadlineMs: 1_000 })
      expect(cut).toMatchObject({ migrated: 0, remaining: FOREVER, stopped: 'deadline' })
      // The two relayed messages are still there for an honest listing to hand over.
      setup.proxy.rewrite = undefined
      expect(await bob.migrate()).toEqual({ migrated: 2, alreadyMigrated: 0, rejected: [], remaining: 0 })
    })

    // Ends the pass, and the call.
    attack(
      'a migration cursor sent round to the first page',
      'at once',
      async () => {
        await using setup = await relayed(dialect, 500)
        // Once a full page is seen, every listing is that page again, its cursor on; 1,000 always remain.
        let first: string | undefined
        setup.proxy.rewrite = (request, answer) => {
          if (answer.status !== 200 || !(isListing(request) || isUpload(request))) return undefined
          const body = JSON.parse(answer.body)
          if (isUpload(request)) return JSON.stringify({ ...body, remaining: FOREVER })
          if (body.handoffs.length === 500) first ??= answer.body
          return JSON.stringify({ ...(first ? JSON.parse(first) : body), remaining: FOREVER })
        }
        const result = await setup.bobClient().setup()
        expect(result.migration).toEqual({ migrated: 500, remaining: FOREVER, stopped: 'no_progress' })
        // One pass: the page, its upload (one batch of ~0.6 MB), the page again by cursor; then the first page again.
        expect(setup.proxy.count('/v1/migrations', 'POST')).toBe(1)
        expect(setup.proxy.count('/v1/migrations', 'GET')).toBeLessThanOrEqual(12)
        expect(await stillRelayed(setup.server, setup.bob)).toBe(0)
      },
      120_000,
    )
  })
}
