/**
 * Data from the release before rooms (packages/server/test/fixtures/release-5dfacfa), moved by
 * the rooms migration: every 1:1 message still reads, verifies against its anchored manifest, and
 * recovers from the chain and the blocks alone; the moved rooms take the new features. On SQLite
 * the release's own database file is migrated; on PostgreSQL its rows are first copied into a
 * schema at the migration before rooms.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import SqliteDatabase from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { Database } from '../../server/src/db/database.js'
import { createClient, foldMessages, privateKeyWallet } from '../src/index.js'
import { DIALECTS, TestServer } from './_util.js'

const FIXTURE = fileURLToPath(new URL('../../server/test/fixtures/release-5dfacfa/', import.meta.url))
const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'fixture.json'), 'utf8')) as {
  publicUrl: string
  keys: Record<'alice' | 'bob' | 'carol' | 'dave', string>
  addresses: Record<'alice' | 'bob' | 'carol' | 'dave', string>
}
const BEFORE_ROOMS = '20261127T120000000Z-keyset-indexes'

/** A copy of the release's data dir (the test changes it). */
function copyData(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-release-'))
  fs.cpSync(path.join(FIXTURE, 'data'), dir, { recursive: true })
  return dir
}

/** The release's rows in a PostgreSQL schema at the migration before rooms. */
async function postgresCopy(dataDir: string, schema: string): Promise<void> {
  const database = await Database.postgres({ url: process.env.DMTP_TEST_POSTGRES_URL as string, schema })
  const sqlite = new SqliteDatabase(path.join(dataDir, 'dmtp.sqlite'), { readonly: true })
  try {
    await database.migrateTo(BEFORE_ROOMS)
    const db = database.db as unknown as Kysely<any>
    const tables = sqlite
      .prepare("select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%'")
      .pluck()
      .all() as string[]
    for (const table of tables) {
      const rows = sqlite.prepare(`select * from "${table}"`).all() as Record<string, unknown>[]
      if (rows.length > 0) await db.insertInto(table).values(rows).execute()
    }
    await sql`select setval(pg_get_serial_sequence('cids', 'seq'), (select max(seq) from cids))`.execute(db)
  } finally {
    sqlite.close()
    await database.destroy()
  }
}

describe.each(DIALECTS)('data from the release before rooms (%s)', (dialect) => {
  test('default: every message reads, verifies and recovers after the migration', { timeout: 120_000 }, async () => {
    const dataDir = copyData()
    const schema = `release_${Math.random().toString(36).slice(2, 10)}`
    if (dialect === 'postgres') await postgresCopy(dataDir, schema)
    await using server = await TestServer.create({
      dialect,
      dataDir,
      schema,
      chain: true,
      configure: (config) => {
        config.service.publicUrl = fixture.publicUrl
      },
    })
    // Key bundles and sign-in name the release's domain, so the clients are given its URL; their
    // fetch resolves that host to this server's port, as DNS would.
    const local = `http://127.0.0.1:${server.server.port}`
    const resolving: typeof fetch = (input, init) => fetch(String(input).replace(fixture.publicUrl, local), init)
    const [alice, bob, carol] = (['alice', 'bob', 'carol'] as const).map((name) =>
      createClient({ server: fixture.publicUrl, wallet: privateKeyWallet(fixture.keys[name]), fetch: resolving }),
    )
    if (!alice || !bob || !carol) throw new Error('no clients')
    for (const client of [alice, bob, carol]) expect(await client.setup()).toMatchObject({ created: false })
    const { bob: bobAddress, carol: carolAddress, dave: daveAddress } = fixture.addresses

    const texts = async (client: typeof alice, peer: string) =>
      (await client.messages(peer, { limit: 500 })).messages.map((m) => [m.text, m.status, m.e2ee])
    expect(await texts(alice, bobAddress)).toEqual([
      ['gm bob', 'ok', true],
      ['gm alice, this is end to end', 'ok', true],
      ['ünïcödé ✓ and a newline\nsecond line', 'ok', true],
      ['after the last sync (pending)', 'ok', true],
      ['never anchored', 'ok', true],
    ])
    expect(await texts(carol, fixture.addresses.alice)).toEqual([
      ['welcome carol (relayed)', 'ok', true],
      ['second relayed to carol', 'ok', true],
      ['thanks alice, set up now', 'ok', true],
    ])
    // Still waiting for dave to set up (pattern β): readable by its sender only.
    expect(await texts(alice, daveAddress)).toEqual([['dave, still waiting for you', 'ok', false]])

    // The same figures as the release's own verify gave on this data.
    expect(await alice.verify()).toMatchObject({ anchored: 8, pending: 1, replaced: 2, missing: 0, altered: 0, ok: true })
    expect(await bob.verify()).toMatchObject({ anchored: 4, pending: 1, missing: 0, altered: 0, ok: true })
    expect(await carol.verify()).toMatchObject({ anchored: 3, replaced: 2, missing: 0, altered: 0, ok: true })
    const room = await alice.openDirect(bobAddress)
    const recovered = await alice.recover({ room })
    expect(recovered.unavailable).toEqual([])
    expect(recovered.messages.map((m) => [m.text, m.status])).toEqual([
      ['gm bob', 'ok'],
      ['gm alice, this is end to end', 'ok'],
      ['ünïcödé ✓ and a newline\nsecond line', 'ok'],
      ['after the last sync (pending)', 'ok'],
    ])

    // Read markers moved with the rooms; the moved rooms take replies and reactions.
    const rooms = await bob.rooms.list()
    expect(rooms.find((entry) => entry.room.id === room)).toMatchObject({ unread: 1, peer: fixture.addresses.alice })
    const history = (await bob.messages(room)).messages
    const first = history[0]
    if (!first) throw new Error('no history')
    await bob.react(room, first.id, '🎉')
    await bob.send(room, 'replying to an old message', { replyTo: first.id })
    const views = foldMessages((await alice.messages(room, { limit: 500 })).messages, { me: fixture.addresses.alice })
    expect(views[0]?.reactions).toEqual([{ emoji: '🎉', count: 1, mine: false, by: [bobAddress] }])
    expect(views.at(-1)).toMatchObject({ text: 'replying to an old message', replyTo: { id: first.id, text: 'gm bob' } })
    expect(carolAddress).toBe((await carol.getWallet()).address)
  })
})
