/**
 * Restarts: messages, key bundles and sessions live in the database, so a restart (same data dir,
 * same PostgreSQL schema) changes nothing, room seqs continue without gaps and stream positions
 * keep increasing.
 * An acknowledged message is durable even if the server never shuts down cleanly.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import { api, TestStream, TestWallet } from './_wallet.js'

describe.each(DIALECTS)('restart (%s)', (dialect) => {
  test('default: messages, key bundles and sessions survive a restart', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const room = await alice.openRoom(bob.address)
    for (let i = 0; i < 3; i++) expect((await alice.send(bob, `before restart ${i}`, { room })).status).toBe(200)

    const reads = () =>
      Promise.all([
        api(server.url, 'GET', `/v1/keys/${alice.address}`),
        api(server.url, 'GET', `/v1/keys/${bob.address}/history`),
        api(server.url, 'GET', `/v1/rooms/${room}/messages`, { token: bob.token }),
        api(server.url, 'GET', '/v1/inbox', { token: bob.token }),
        api(server.url, 'GET', '/v1/rooms', { token: alice.token }),
      ]).then((responses) => responses.map(({ status, body }) => ({ status, body })))
    const before = await reads()
    const rows = await snapshotDb(server)
    expect(before.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])

    await using stream = await TestStream.connect(server.wsUrl, bob.token)
    await server.restart()
    expect(await stream.closed).toEqual({ code: 1001, reason: 'server shutting down' })
    expect(await reads()).toEqual(before)
    expect(await snapshotDb(server)).toEqual(rows)
  })

  test('behavior: room seqs continue without gaps and stream positions keep increasing after a restart', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const room = await alice.openRoom(bob.address)
    for (let i = 0; i < 3; i++) expect((await alice.send(bob, `before ${i}`, { room })).status).toBe(200)
    const early = (await api(server.url, 'GET', '/v1/inbox', { token: bob.token })).body.entries.map((entry: any) => entry.cursor)
    expect(early).toHaveLength(3)
    const acked = early[1]
    expect((await api(server.url, 'POST', '/v1/inbox/ack', { token: bob.token, body: { cursor: acked } })).body).toEqual({
      acked,
    })

    await server.restart()
    const after = await Promise.all([bob.send(alice, 'after 0', { room }), alice.send(bob, 'after 1', { room })])
    expect(after.map((r) => r.body.seq).sort()).toEqual([4, 5])

    // Stream positions are server-wide (not gapless per wallet), but never reused: the ones given
    // after the restart come after every one before it, and each entry is listed once.
    const inbox = await api(server.url, 'GET', '/v1/inbox', { token: bob.token })
    const cursors: number[] = inbox.body.entries.map((entry: any) => entry.cursor)
    expect(cursors.slice(0, 3)).toEqual(early)
    expect(cursors).toHaveLength(5)
    for (let i = 1; i < cursors.length; i++) expect(cursors[i]).toBeGreaterThan(cursors[i - 1] as number)
    expect(inbox.body.entries.map((entry: any) => entry.message.seq)).toEqual([1, 2, 3, 4, 5])
    expect(new Set(inbox.body.entries.map((entry: any) => entry.message.envelope.id)).size).toBe(5)
    expect(inbox.body.latest).toBe(cursors[4])
    const history = await api(server.url, 'GET', `/v1/rooms/${room}/messages`, { token: alice.token })
    expect(history.body.messages.map((m: any) => m.seq)).toEqual([1, 2, 3, 4, 5])

    // The acknowledged cursor survived too: a stream without a cursor resumes after it.
    await using stream = await TestStream.connect(server.wsUrl, bob.token)
    expect(stream.frames[0]).toEqual({ type: 'ready', address: bob.address, cursor: acked, latest: cursors[4] })
    await stream.next((frame) => frame.type === 'caught_up')
    expect(stream.cursors()).toEqual(cursors.slice(2))
  })

  test('behavior: acknowledged messages are durable without a clean shutdown', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const room = await alice.openRoom(bob.address)
    const envelopes = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.seal(bob, `durable ${i}`, { room })))
    const results = await Promise.all(envelopes.map((envelope) => alice.post(envelope)))
    expect(results.every((r) => r.status === 200)).toBe(true)

    // What a crash would leave: the data as it is on disk (SQLite: a copy of the files, WAL
    // included, taken while the server still runs) or in PostgreSQL, opened by a second server
    // while the first is never flushed or closed.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-crash-'))
    if (dialect === 'sqlite') {
      fs.cpSync(server.options.dataDir, dataDir, { recursive: true, filter: (source) => !source.endsWith('-shm') })
    }
    await using survivor = await TestServer.create({
      dialect,
      dataDir,
      ...(dialect === 'postgres' ? { schema: server.options.schema } : {}),
    })
    const history = await api(survivor.url, 'GET', `/v1/rooms/${room}/messages?limit=100`, { token: bob.token })
    expect(history.status).toBe(200)
    expect(history.body.messages.map((m: any) => m.envelope.id).sort()).toEqual(envelopes.map((e) => e.id).sort())
    expect(history.body.messages.map((m: any) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })
})
