/**
 * `dmtp verify` and `dmtp recover` against a server that anchors on the embedded chain.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, onTestFinished, test } from 'vitest'
import { json, newUser, setUp, TestServer } from './_util.js'

async function conversation() {
  const server = await TestServer.create({ chain: true })
  const alice = newUser(server)
  const bob = newUser(server)
  await alice.run(['setup'])
  await bob.run(['setup'])
  const sent = []
  for (let i = 0; i < 3; i++) sent.push(json((await alice.run(['send', '--to', bob.address, `anchored ${i}`, '--json'])).stdout))
  await server.ctx.anchoring.syncNow()
  // Keys go on chain in their own batch; wait for both.
  const chain = server.ctx.chain
  for (let i = 0; i < 200 && ((await chain?.keyOf(alice.address)) === '' || (await chain?.keyOf(bob.address)) === ''); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { server, alice, bob, sent, room: sent[0].room as string }
}

describe('dmtp verify and recover (sqlite, anvil)', () => {
  test('default: verify passes on an honest server and fails, exit 1, once a message is deleted', async () => {
    const { server, alice, sent } = await conversation()
    await using _server = server
    const ok = await alice.run(['verify', '--json'])
    expect(ok).toMatchObject({ code: 0 })
    expect(json(ok.stdout)).toMatchObject({
      anchored: 3,
      pending: 0,
      missing: 0,
      altered: 0,
      keys: { anchored: 2, mismatched: 0 },
      ok: true,
    })
    const human = await alice.run(['verify'])
    expect(human.stdout).toMatch(/^OK: 3 anchored, 0 pending, 0 missing, 0 altered\n/)

    const db = server.ctx.database.db
    const { cid } = await db.selectFrom('messages').select('cid').where('id', '=', sent[1].id).executeTakeFirstOrThrow()
    await db.deleteFrom('messages').where('id', '=', sent[1].id).execute()
    await server.restart()
    const caught = await alice.run(['verify', '--json'])
    expect(caught.code).toBe(1)
    expect(json(caught.stdout)).toMatchObject({ anchored: 2, missing: 1, ok: false })
    const caughtHuman = await alice.run(['verify'])
    expect(caughtHuman.code).toBe(1)
    expect(caughtHuman.stdout).toContain(`missing  ${cid}`)
  })

  test('behavior: verify against a chain given on the command line', async () => {
    const { server, alice } = await conversation()
    await using _server = server
    const chain = server.ctx.chain?.info
    const result = await alice.run([
      'verify',
      '--json',
      '--chain-rpc',
      chain?.rpcUrl as string,
      '--registry',
      chain?.registry as string,
    ])
    expect(json(result.stdout)).toMatchObject({ anchored: 3, ok: true })
    const half = await alice.run(['verify', '--json', '--registry', chain?.registry as string])
    expect(half.code).toBe(1)
    expect(json(half.stderr)).toMatchObject({ error: { code: 'invalid_request' } })
  })

  test('behavior: verify and recover a group: its messages and its membership log', { timeout: 240_000 }, async () => {
    await using server = await TestServer.create({ chain: true })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const { room } = json((await alice.run(['group', 'create', '--name', 'anchored', '--type', 'public', '--json'])).stdout)
    expect((await bob.run(['group', 'join', '--room', room])).code).toBe(0)
    for (const text of ['one', 'two']) expect((await alice.run(['send', '--room', room, text])).code).toBe(0)
    await server.ctx.anchoring.syncNow()

    const verified = await bob.run(['verify', '--room', room, '--json'])
    expect(verified).toMatchObject({ code: 0 })
    // Two log entries (create, join) and two messages.
    expect(json(verified.stdout)).toMatchObject({ anchored: 4, pending: 0, missing: 0, altered: 0, ok: true })
    expect((await bob.run(['verify', '--room', room])).stdout).toMatch(/^OK: 4 anchored, 0 pending, 0 missing, 0 altered\n/)
    const stranger = newUser(server)
    await setUp(server, stranger)
    const notMine = await stranger.run(['verify', '--room', room, '--json'])
    expect(notMine).toMatchObject({ code: 1, stdout: '' })
    expect(json(notMine.stderr)).toEqual({ error: { code: 'not_member', message: 'You are not a member of this room.' } })

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-recover-'))
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
    const out = path.join(dir, 'group.json')
    const recovered = await bob.run(['recover', '--room', room, '--out', out, '--json'])
    expect(recovered).toMatchObject({ code: 0 })
    expect(json(recovered.stdout)).toEqual({ room, recovered: 4, unavailable: [], out })
    const history = json(fs.readFileSync(out, 'utf8'))
    expect(history.map((m: { type: string; text: string }) => [m.type, m.text])).toEqual([
      ['system', expect.stringContaining('created the public room "anchored"')],
      ['system', expect.stringContaining('joined')],
      ['message', 'one'],
      ['message', 'two'],
    ])
  })

  test('behavior: recover writes the history from chain + blocks after the database is deleted', async () => {
    const { server, bob, room } = await conversation()
    await using _server = server
    await server.stop()
    for (const suffix of ['', '-wal', '-shm'])
      fs.rmSync(path.join(server.options.dataDir, `dmtp.sqlite${suffix}`), { force: true })
    await server.restart()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-recover-'))
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
    const out = path.join(dir, 'history.json')
    const result = await bob.run(['recover', '--room', room, '--out', out, '--json'])
    expect(result).toMatchObject({ code: 0 })
    expect(json(result.stdout)).toEqual({ room, recovered: 3, unavailable: [], out })
    const history = json(fs.readFileSync(out, 'utf8'))
    expect(history.map((m: { text: string }) => m.text)).toEqual(['anchored 0', 'anchored 1', 'anchored 2'])
    expect(history[0]).toMatchObject({ room, manifest: { chainIndex: 0 } })
  })
})
