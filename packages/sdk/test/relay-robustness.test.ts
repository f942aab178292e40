/**
 * Pattern β when things go wrong: the server killed between steps, the receiver offline midway,
 * the receiver on two devices at once, the sender writing during the migration, and a queue
 * larger than one batch. Every case must end with each message delivered once, none lost, all
 * end-to-end, and nothing the server can still read.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { freePort, killOrphanAnvil, ServerProcess } from '../../server/test/_server-process.js'
import { createClient, type DmtpClient, privateKeyWallet } from '../src/index.js'
import { newClient, rawBlocks, TestServer } from './_util.js'

/** The whole conversation as the receiver sees it, after the dust settles. */
async function settled(client: DmtpClient, peer: string) {
  const messages = []
  for (let cursor: number | null = 0; cursor !== null; ) {
    const page = await client.messages(peer, { cursor, limit: 500 })
    messages.push(...page.messages)
    cursor = page.nextCursor
  }
  return messages
}

function expectAllEndToEnd(messages: Awaited<ReturnType<typeof settled>>, texts: string[]) {
  expect(messages.filter((m) => !m.e2ee || m.status !== 'ok')).toEqual([])
  expect(messages.map((m) => m.text).sort()).toEqual([...texts].sort())
  expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length)
}

/** A sender with keys on `server`, and a wallet without any yet (its key and address). */
async function senderAndNewWallet(server: TestServer) {
  const alice = newClient(server.url, undefined, { node: true })
  await alice.setup()
  const bobKey = generatePrivateKey()
  return { alice, bobKey, bob: privateKeyToAccount(bobKey).address }
}

describe('pattern β robustness (sqlite, anvil)', () => {
  for (const point of ['handoffs-prepare', 'handoffs-written', 'migration-swapped'] as const) {
    test(`behavior: the server killed at ${point}; after a restart the migration completes and no readable copy is left`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-relay-crash-'))
      const env = {
        DMTP_DATA_DIR: dir,
        DMTP_PORT: String(await freePort()),
        DMTP_CHAIN: 'anvil',
        DMTP_LOG_LEVEL: 'warn',
        DMTP_SYNC_INTERVAL: '3600',
        DMTP_SYNC_EVERY: '2',
      }
      try {
        let server = await ServerProcess.start({ ...env, DMTP_TEST_CRASH_AT: point })
        const alice = newClient(server.url, undefined, { node: true })
        await alice.setup()
        const bobKey = generatePrivateKey()
        const bob = privateKeyToAccount(bobKey).address
        const texts = Array.from({ length: 4 }, (_, i) => `relayed ${i}`)
        for (const text of texts) await alice.send(bob, text)
        // Bob's setup reaches the fault point; the server dies under it.
        await newClient(server.url, bobKey, { node: true })
          .setup()
          .catch(() => undefined)
        expect(await server.exited()).toBe('SIGKILL')

        server = await ServerProcess.start(env)
        try {
          const bobAgain = newClient(server.url, bobKey, { node: true })
          const result = await bobAgain.migrate()
          expect(result).toMatchObject({ remaining: 0, rejected: [] })
          expectAllEndToEnd(await settled(bobAgain, (await alice.getWallet()).address), texts)
          const aliceView = await settled(newClient(server.url, alice.key, { node: true }), bob)
          expect(aliceView.every((m) => m.e2ee && m.status === 'ok')).toBe(true)
          // No relayed envelope block survives in the store, even one written before the crash.
          const relayedBlocks = rawBlocks(dir)
            .all()
            .filter((block) => block.text.includes('dmtp-relay-v1'))
          expect(relayedBlocks).toEqual([])
        } finally {
          await server.stop()
        }
      } finally {
        killOrphanAnvil(dir)
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }, 90_000)
  }

  test('behavior: the receiver goes offline midway, then finishes on a new device', async () => {
    await using server = await TestServer.create({
      chain: true,
      configure: (c) =>
        void Object.assign(c.limits, { messagesPerSecond: 10_000, messageBurst: 10_000, requestsPerMinute: 100_000 }),
    })
    const { alice, bobKey, bob } = await senderAndNewWallet(server)
    // More than two pages of handoffs (500 each) and two batches of the server's preparation.
    const texts = Array.from({ length: 1_100 }, (_, i) => `queued ${i}`)
    for (let i = 0; i < texts.length; i += 50) await Promise.all(texts.slice(i, i + 50).map((text) => alice.send(bob, text)))

    // The first device loses its connection after its first upload.
    let uploads = 0
    const flakyFetch: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/v1/migrations') && init?.method === 'POST' && ++uploads > 1)
        throw new TypeError('network down')
      return fetch(input, init)
    }
    const first = createClient({ server: server.url, wallet: privateKeyWallet(bobKey), fetch: flakyFetch })
    const setup = await first.setup()
    // Uploads go a page (500) at a time.
    expect(setup.migration.migrated).toBe(500)
    expect(setup.migration.remaining).toBe(600)

    const second = newClient(server.url, bobKey, { node: true })
    const progress: number[] = []
    const rest = await second.migrate({ onProgress: ({ done }) => progress.push(done) })
    expect(rest).toMatchObject({ migrated: 600, remaining: 0 })
    // A full page of 500, then the next page by its cursor.
    expect(progress).toEqual([500, 600])
    expectAllEndToEnd(await settled(second, (await alice.getWallet()).address), texts)
  })

  test('behavior: the receiver goes offline right after its keys are registered; setup still succeeds and says so', async () => {
    await using server = await TestServer.create({ chain: true })
    const { alice, bobKey, bob } = await senderAndNewWallet(server)
    const texts = ['before 0', 'before 1', 'before 2']
    for (const text of texts) await alice.send(bob, text)

    // The connection drops once the key bundle is up: even the listing of waiting messages fails.
    const offline: typeof fetch = async (input, init) => {
      if (String(input).includes('/v1/migrations')) throw new TypeError('network down')
      return fetch(input, init)
    }
    const first = createClient({ server: server.url, wallet: privateKeyWallet(bobKey), fetch: offline })
    const setup = await first.setup()
    expect(setup.created).toBe(true)
    expect(setup.migration).toMatchObject({ migrated: 0, remaining: 0 })
    expect(setup.migration.error).toMatch(/Cannot reach the DMTP server/)

    const rest = await newClient(server.url, bobKey, { node: true }).migrate()
    expect(rest).toMatchObject({ migrated: 3, remaining: 0 })
    expectAllEndToEnd(await settled(newClient(server.url, bobKey, { node: true }), (await alice.getWallet()).address), texts)
  })

  test('behavior: two devices of the receiver migrate at once; each message is migrated once', async () => {
    await using server = await TestServer.create({
      chain: true,
      configure: (c) => void Object.assign(c.limits, { messagesPerSecond: 10_000, messageBurst: 10_000 }),
    })
    const { alice, bobKey, bob } = await senderAndNewWallet(server)
    const texts = Array.from({ length: 300 }, (_, i) => `twice ${i}`)
    for (const text of texts) await alice.send(bob, text)
    await newClient(server.url, bobKey, { node: true })
      .setup({ rotate: false })
      .catch(() => undefined)

    const [phone, laptop] = [newClient(server.url, bobKey, { node: true }), newClient(server.url, bobKey, { node: true })]
    const results = await Promise.all([phone.migrate(), laptop.migrate()])
    expect(results.every((r) => r.remaining === 0 && r.rejected.length === 0)).toBe(true)
    const rows = await server.ctx.database.db.selectFrom('messages').select(['id', 'e2ee']).execute()
    expect(rows).toHaveLength(300)
    expect(rows.every((row) => row.e2ee === 1)).toBe(true)
    const replacements = await server.ctx.database.db
      .selectFrom('cids')
      .select('replaces')
      .where('replaces', 'is not', null)
      .execute()
    expect(replacements).toHaveLength(300)
    expectAllEndToEnd(await settled(phone, (await alice.getWallet()).address), texts)
  })

  test('behavior: the sender keeps writing while the receiver sets up; nothing is lost or doubled', async () => {
    await using server = await TestServer.create({
      chain: true,
      configure: (c) => void Object.assign(c.limits, { messagesPerSecond: 10_000, messageBurst: 10_000 }),
    })
    const { alice, bobKey, bob } = await senderAndNewWallet(server)
    const texts: string[] = []
    for (let i = 0; i < 50; i++) texts.push(`before ${i}`)
    for (const text of texts.slice()) await alice.send(bob, text)

    let writing = true
    const writer = (async () => {
      for (let i = 0; writing || i < 20; i++) {
        const text = `during ${i}`
        await alice.send(bob, text)
        texts.push(text)
      }
    })()
    const bobClient = newClient(server.url, bobKey, { node: true })
    await bobClient.setup()
    writing = false
    await writer
    // Stragglers relayed just as the keys arrived are migrated by the next call.
    await bobClient.migrate()
    expectAllEndToEnd(await settled(bobClient, (await alice.getWallet()).address), texts)
  })
})
