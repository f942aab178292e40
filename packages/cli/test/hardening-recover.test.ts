/**
 * Issue 16 items 7 and 18, through the built `dmtp`: `recover` with blocks deleted from the real
 * block store (`<data>/blocks.sqlite`, after the database is lost) lists every missing block by
 * kind and exits 1, counts only what it could read, and never writes `[]` as a success; `verify`
 * says "unavailable" for what a lost manifest listed; a server without a chain is
 * `chain_unavailable`, not `internal_error`.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import Database from 'better-sqlite3'
import { describe, expect, onTestFinished, test } from 'vitest'
import { attack } from '../../sdk/test/hostile/attack.js'
import { json, newUser, setUp, TestServer, type User } from './_util.js'

const client = (server: TestServer, user: User) => createClient({ server: server.url, wallet: privateKeyWallet(user.key) })

/** alice ↔ bob, `count` messages anchored, both keys on chain; what the database knew, kept. */
async function anchoredPair(count: number) {
  const server = await TestServer.create({ chain: true })
  const [alice, bob] = [newUser(server), newUser(server)]
  await setUp(server, alice, bob)
  const [fromAlice, fromBob] = [client(server, alice), client(server, bob)]
  const sent = []
  for (let i = 0; i < count; i++)
    sent.push(await (i % 2 ? fromBob.send(alice.address, `to alice ${i}`) : fromAlice.send(bob.address, `to bob ${i}`)))
  await server.ctx.anchoring.syncNow()
  const chain = server.ctx.chain
  for (let i = 0; i < 400 && ((await chain?.keyOf(alice.address)) === '' || (await chain?.keyOf(bob.address)) === ''); i++)
    await new Promise((resolve) => setTimeout(resolve, 50))
  const db = server.ctx.database.db
  const keys = await db.selectFrom('key_bundles').select(['address', 'cid']).execute()
  const manifests = (await db.selectFrom('manifests').select('cid').orderBy('seq').execute()).map((row) => row.cid)
  const keyOf = (user: User) => keys.find((key) => key.address === user.address)?.cid as string
  return { server, alice, bob, sent, room: sent[0]?.room as string, keyOf, manifests }
}

/** Stops the server, deletes its database and the given blocks, and starts it again. */
async function loseDatabaseAndBlocks(server: TestServer, cids: string[]): Promise<void> {
  await server.stop()
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(server.options.dataDir, `dmtp.sqlite${suffix}`), { force: true })
  const blocks = new Database(path.join(server.options.dataDir, 'blocks.sqlite'))
  try {
    for (const cid of cids) expect(blocks.prepare('delete from blocks where cid = ?').run(cid).changes).toBe(1)
  } finally {
    blocks.close()
  }
  await server.restart()
}

function outFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-recover-'))
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, 'history.json')
}

describe('dmtp recover with blocks missing (sqlite, anvil)', () => {
  // "Recovered 0 of 20", both bundles listed, exit 1.
  attack('key bundle blocks withheld from dmtp recover', 'at once', async () => {
    const setup = await anchoredPair(20)
    await using _server = setup.server
    await loseDatabaseAndBlocks(setup.server, [setup.keyOf(setup.alice), setup.keyOf(setup.bob)])
    const out = outFile()
    const result = await setup.bob.run(['recover', '--room', setup.room, '--out', out, '--json'])
    expect(result.code).toBe(1)
    const summary = json(result.stdout)
    expect(summary).toMatchObject({ room: setup.room, recovered: 0, out })
    expect(summary.unavailable.map((block: { kind: string; cid: string }) => [block.kind, block.cid]).sort()).toEqual(
      [
        ['key_bundle', setup.keyOf(setup.alice)],
        ['key_bundle', setup.keyOf(setup.bob)],
      ].sort(),
    )
    const history = json(fs.readFileSync(out, 'utf8'))
    expect(history).toHaveLength(20)
    expect(new Set(history.map((m: { status: string }) => m.status))).toEqual(new Set(['unknown_key']))

    const human = await setup.bob.run(['recover', '--room', setup.room, '--out', out])
    expect(human.code).toBe(1)
    expect(human.stdout).toContain(`Recovered 0 of 20 position(s) of room ${setup.room} into ${out}\n`)
    expect(human.stdout).toContain('  20 position(s) without text: 20 unknown_key\n  2 block(s) could not be fetched:\n')
    expect(human.stdout).toContain(`  key bundle  ${setup.keyOf(setup.bob)}: `)
  })

  // Each listed, the file is [] and the exit status 1.
  attack('manifest blocks withheld from dmtp recover', 'at once', async () => {
    const setup = await anchoredPair(3)
    await using _server = setup.server
    await loseDatabaseAndBlocks(setup.server, setup.manifests)
    const out = outFile()
    const result = await setup.bob.run(['recover', '--room', setup.room, '--out', out, '--json'])
    expect(result.code).toBe(1)
    expect(json(result.stdout)).toEqual({
      room: setup.room,
      recovered: 0,
      unavailable: setup.manifests.map((cid) => ({
        kind: 'manifest',
        cid,
        reason: 'the server does not serve this anchored manifest',
      })),
      out,
    })
    expect(json(fs.readFileSync(out, 'utf8'))).toEqual([])
    const human = await setup.bob.run(['recover', '--room', setup.room, '--out', out])
    expect(human.code).toBe(1)
    expect(human.stdout).toBe(
      [
        `Recovered 0 of 0 position(s) of room ${setup.room} into ${out}`,
        `  ${setup.manifests.length} block(s) could not be fetched:`,
        ...setup.manifests.map((cid) => `  manifest    ${cid}: the server does not serve this anchored manifest`),
        '',
      ].join('\n'),
    )
  })

  // The other 19 recovered, the lost one listed, exit 1.
  attack('an envelope block withheld from dmtp recover', 'at once', async () => {
    const setup = await anchoredPair(20)
    await using _server = setup.server
    const lost = setup.sent[7]?.cid as string
    await loseDatabaseAndBlocks(setup.server, [lost])
    const out = outFile()
    const result = await setup.alice.run(['recover', '--room', setup.room, '--out', out, '--json'])
    expect(result.code).toBe(1)
    expect(json(result.stdout)).toEqual({
      room: setup.room,
      recovered: 19,
      unavailable: [{ kind: 'envelope', cid: lost, reason: 'not served intact' }],
      out,
    })
    const history = json(fs.readFileSync(out, 'utf8'))
    expect(history.map((m: { cid: string }) => m.cid)).toEqual(setup.sent.map((m) => m.cid).filter((cid) => cid !== lost))
  })

  test('behavior: a room with nothing anchored is not a success', async () => {
    const setup = await anchoredPair(1)
    await using _server = setup.server
    const out = outFile()
    const result = await setup.bob.run(['recover', '--room', 'AAAAAAAAAAAAAAAAAAAAAA', '--out', out, '--json'])
    expect(result).toMatchObject({ code: 1 })
    expect(json(result.stdout)).toEqual({ room: 'AAAAAAAAAAAAAAAAAAAAAA', recovered: 0, unavailable: [], out })
    expect(result.stderr).toBe('warning: nothing of room AAAAAAAAAAAAAAAAAAAAAA is anchored on chain yet: nothing to recover\n')
  })
})

describe('dmtp verify, in detail (sqlite, anvil)', () => {
  // What it listed is unavailable, not altered; exit 1.
  attack('a manifest block withheld from dmtp verify', 'on verify', async () => {
    const setup = await anchoredPair(3)
    await using _server = setup.server
    await setup.server.stop()
    const blocks = new Database(path.join(setup.server.options.dataDir, 'blocks.sqlite'))
    blocks.prepare('delete from blocks where cid = ?').run(setup.manifests[0])
    blocks.close()
    await setup.server.restart()
    const result = await setup.alice.run(['verify'])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^FAILED: 0 anchored, 0 pending, 0 missing, 0 altered, 3 unavailable\n/)
    expect(result.stdout).toContain('  1 anchored manifest(s) not served intact\n')
    for (const { cid } of setup.sent)
      expect(result.stdout).toContain(
        `  unavailable ${cid} (room ${setup.room}): the anchored manifest that would list it is not served\n`,
      )
  })

  test('behavior: a server without a chain is chain_unavailable, for verify and recover', async () => {
    await using server = await TestServer.create()
    const alice = newUser(server)
    await setUp(server, alice)
    const verified = await alice.run(['verify', '--json'])
    expect(verified).toMatchObject({ code: 1, stdout: '' })
    expect(json(verified.stderr)).toEqual({
      error: {
        code: 'chain_unavailable',
        message: 'This server does not anchor on a chain, so there is nothing to verify against.',
      },
    })
    const recovered = await alice.run(['recover', '--room', 'AAAAAAAAAAAAAAAAAAAAAA', '--out', outFile(), '--json'])
    expect(recovered).toMatchObject({ code: 1, stdout: '' })
    expect(json(recovered.stderr)).toMatchObject({ error: { code: 'chain_unavailable' } })
  })
})
