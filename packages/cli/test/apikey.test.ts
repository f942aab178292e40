/**
 * `dmtp apikey`: the operator creates, lists and revokes dApp keys on the server's database while
 * the server runs; the server accepts a created key and refuses it once revoked. Bad input changes
 * nothing.
 */
import type { Kysely } from 'kysely'
import { describe, expect, test } from 'vitest'
import { DIALECTS, json, runCli, TestServer } from './_util.js'

/** The database flags/env that point `dmtp apikey` at `server`'s database. */
function databaseOf(server: TestServer): { args: string[]; env: Record<string, string> } {
  if (server.options.dialect === 'sqlite') return { args: ['--data', server.options.dataDir], env: {} }
  return {
    args: [],
    env: { DMTP_DATABASE_URL: process.env.DMTP_TEST_POSTGRES_URL ?? '', DMTP_DATABASE_SCHEMA: server.options.schema },
  }
}

const nonceWithKey = (server: TestServer, key: string) =>
  fetch(`${server.url}/v1/auth/nonce`, { method: 'POST', headers: { 'x-dmtp-api-key': key } })

describe.each(DIALECTS)('dmtp apikey (%s)', (dialect) => {
  test('default: create prints the key once; the running server accepts it; list hides it; revoke refuses it', async () => {
    await using server = await TestServer.create({ dialect })
    const { args, env } = databaseOf(server)
    const apikey = (...rest: string[]) => runCli(['apikey', ...rest, ...args, '--json'], { env })

    const create = await apikey('create', '--name', 'My dApp', '--rate', '120')
    expect(create.code).toBe(0)
    const created = json(create.stdout)
    expect(created).toEqual({
      id: expect.any(String),
      name: 'My dApp',
      key: expect.stringMatching(/^dmtp_[A-Za-z0-9_-]{43}$/),
      rateLimitPerMinute: 120,
      createdAt: expect.any(String),
    })
    expect((await nonceWithKey(server, created.key)).status).toBe(200)

    const list = await apikey('list')
    expect(list.code).toBe(0)
    expect(list.stdout).not.toContain(created.key)
    expect(json(list.stdout)).toEqual([
      {
        id: created.id,
        name: 'My dApp',
        owner: null,
        rateLimitPerMinute: 120,
        createdAt: created.createdAt,
        revokedAt: null,
      },
    ])
    const rows = await (server.ctx.database.db as unknown as Kysely<any>).selectFrom('api_keys').selectAll().execute()
    expect(JSON.stringify(rows)).not.toContain(created.key)

    const revoke = await apikey('revoke', created.id)
    expect(revoke.code).toBe(0)
    expect(json(revoke.stdout)).toEqual({ id: created.id, revokedAt: expect.any(String) })
    // The server caches keys for a few seconds; the revocation made by another process lands within them.
    await expect
      .poll(async () => (await (await nonceWithKey(server, created.key)).json()).error?.code, { timeout: 10_000, interval: 250 })
      .toBe('api_key_revoked')
    expect(json((await apikey('list')).stdout)[0].revokedAt).toBe(json(revoke.stdout).revokedAt)
  })

  test('behavior: a key whose id starts with "-" is revoked like any other', async () => {
    await using server = await TestServer.create({ dialect })
    const { args, env } = databaseOf(server)
    const id = '-dashed_id_0123456789a'
    await (server.ctx.database.db as unknown as Kysely<any>)
      .insertInto('api_keys')
      .values({
        id,
        key_hash: 'x'.repeat(64),
        name: 'dashed',
        owner: null,
        rate_limit_per_minute: 60,
        created_at: new Date().toISOString(),
        revoked_at: null,
      })
      .execute()
    const revoke = await runCli(['apikey', 'revoke', id, ...args, '--json'], { env })
    expect(revoke.code).toBe(0)
    expect(json(revoke.stdout)).toEqual({ id, revokedAt: expect.any(String) })
  })

  test('behavior: bad names, rates and ids are refused with a code and store nothing', async () => {
    await using server = await TestServer.create({ dialect })
    const { args, env } = databaseOf(server)
    const apikey = (...rest: string[]) => runCli(['apikey', ...rest, ...args, '--json'], { env })

    const empty = await apikey('create', '--name', '   ')
    expect(empty.code).toBe(1)
    expect(json(empty.stderr).error.code).toBe('invalid_request')
    const control = await apikey('create', '--name', 'evil\u001b[2J')
    expect(json(control.stderr).error.code).toBe('invalid_request')
    const long = await apikey('create', '--name', 'x'.repeat(65))
    expect(json(long.stderr).error.code).toBe('invalid_request')
    const zeroRate = await apikey('create', '--name', 'ok', '--rate', '0')
    expect(zeroRate.code).toBe(2)
    expect(json(zeroRate.stderr).error.code).toBe('usage')
    const missing = await apikey('revoke', 'no-such-id')
    expect(missing.code).toBe(1)
    expect(json(missing.stderr)).toEqual({ error: { code: 'api_key_not_found', message: 'No API key "no-such-id".' } })
    // An id is read as an id even when it looks like an option (1 id in 64 starts with "-").
    const dashed = await apikey('revoke', '-no-such-id')
    expect(dashed.code).toBe(1)
    expect(json(dashed.stderr).error.code).toBe('api_key_not_found')
    const extra = await apikey('revoke', 'no-such-id', '--bogus')
    expect(extra.code).toBe(2)
    expect(json(extra.stderr).error.code).toBe('usage')

    const badEnv = await runCli(['apikey', 'create', '--name', 'ok', ...args, '--json'], {
      env: { ...env, DMTP_DATABASE_URL: 'mysql://nope' },
    })
    expect(badEnv.code).toBe(1)
    expect(json(badEnv.stderr).error.code).toBe('invalid_config')

    expect(json((await apikey('list')).stdout)).toEqual([])
  })
})
