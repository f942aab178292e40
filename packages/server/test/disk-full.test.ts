/**
 * A full disk (issue 16, item 13). Before the fix, sends on a full data dir got `500
 * internal_error` ("cannot rollback - no transaction is active", which hid SQLITE_FULL), an
 * unhandled SQLITE_FULL in the checkpoint worker ended the process, and `/health` said ok. Here
 * the data dir is a small tmpfs (mounted as root; skipped with the reason otherwise) that a filler
 * file fills: sends get `507 storage_full` and no ack, `/health` says so, the process lives, and
 * when the filler goes everything works again and nothing acknowledged is lost. The server runs in
 * its own process from the build (`npm test` builds first). PostgreSQL's disk is out of scope.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { toBlock } from '@dmtp/protocol'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, test } from 'vitest'
import { CheckpointError, SqliteCheckpointer } from '../src/db/sqlite-checkpointer.js'
import { isStorageFull } from '../src/db/storage-monitor.js'
import { createBlockStore } from '../src/ports/block-store/index.js'
import { freePort, ServerProcess } from './_server-process.js'
import { DIALECTS, TestServer, waitFor } from './_util.js'
import { api, TestStream, TestWallet } from './_wallet.js'

function mountTmpfs(): { dir: string } | { reason: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' })
    return { dir }
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true })
    return { reason: `cannot mount a tmpfs (needs root): ${String((error as Error).message).split('\n')[0]}` }
  }
}

const mount = mountTmpfs()
const disk = 'dir' in mount ? mount.dir : ''
afterAll(() => {
  if (!disk) return
  execFileSync('umount', ['-l', disk])
  fs.rmSync(disk, { recursive: true, force: true })
})

/** Writes a filler file until the disk has no space left; returns its path. */
function fillDisk(name = 'filler'): string {
  const file = path.join(disk, name)
  const fd = fs.openSync(file, 'w')
  try {
    const chunk = Buffer.alloc(64 * 1024, 1)
    for (;;) fs.writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    fs.closeSync(fd)
  }
  return file
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

async function history(url: string, wallet: TestWallet, room: string) {
  const page = await api(url, 'GET', `/v1/rooms/${room}/messages?limit=100`, { token: wallet.token })
  expect(page.status).toBe(200)
  return page.body.messages as { seq: number; envelope: { id: string } }[]
}

describe.skipIf(!disk)(
  disk ? 'a full data dir (sqlite, tmpfs)' : `a full data dir — skipped: ${'reason' in mount ? mount.reason : ''}`,
  () => {
    test('default: sends get 507 storage_full and no ack, /health says so, and all comes back when space returns', async () => {
      const dataDir = path.join(disk, 'server')
      const port = await freePort()
      const env = {
        DMTP_DATA_DIR: dataDir,
        DMTP_PORT: String(port),
        DMTP_CHAIN: 'none',
        DMTP_LOG_LEVEL: 'warn',
        DMTP_BLOCK_STORE: 'sqlite',
        // Blocks are written to the block store as soon as a message is stored.
        DMTP_SYNC_INTERVAL: '1',
        DMTP_SYNC_EVERY: '1',
      }
      let server = await ServerProcess.start(env)
      try {
        const alice = await new TestWallet(server.url).setup()
        const bob = await new TestWallet(server.url).setup()
        const room = await alice.openRoom(bob.address)
        const acked: { id: string; cid: string }[] = []
        for (let i = 0; i < 10; i++) {
          const sent = await alice.send(bob, `before ${i}`, { room })
          expect(sent.status).toBe(200)
          acked.push({ id: sent.body.id, cid: sent.body.cid })
        }
        const blocksFile = path.join(dataDir, 'blocks.sqlite')
        const storedBlocks = () => {
          const blocks = new Database(blocksFile, { readonly: true })
          try {
            const select = blocks.prepare('select 1 from blocks where cid = ?')
            return acked.filter(({ cid }) => select.get(cid) !== undefined).length
          } finally {
            blocks.close()
          }
        }
        await waitFor(() => storedBlocks() === acked.length, 20_000)
        // Idle: both WALs are truncated to nothing, so a write now needs new space on the disk.
        const wals = () => [fileSize(`${dataDir}/dmtp.sqlite-wal`), fileSize(`${blocksFile}-wal`)]
        await waitFor(() => wals().every((bytes) => bytes === 0), 10_000).catch((error: Error) => {
          throw new Error(`${error.message}: WAL sizes ${wals().join(', ')}`)
        })
        expect((await api(server.url, 'GET', '/health')).body).toMatchObject({ status: 'ok', storage: 'ok' })

        const filler = fillDisk()
        const refused = []
        for (let i = 0; i < 5; i++) refused.push(await alice.send(bob, `while full ${i}`, { room }))
        for (const answer of refused) {
          expect(answer.status).toBe(507)
          expect(answer.body).toEqual({
            error: { code: 'storage_full', message: 'The server is out of storage space: nothing was stored. Try again later.' },
          })
        }
        // The stream's send path answers the same, with an error frame and no `sent` ack.
        await using stream = await TestStream.connect(`${server.url.replace(/^http/, 'ws')}/v1/stream`, alice.token)
        stream.send({ type: 'send', ref: 'full', envelope: await alice.seal(bob, 'over the stream', { room }) })
        expect(await stream.next((frame) => frame.type === 'error' || frame.type === 'sent')).toMatchObject({
          type: 'error',
          ref: 'full',
          error: { code: 'storage_full' },
        })
        const health = await api(server.url, 'GET', '/health')
        expect(health.status).toBe(503)
        expect(health.body).toMatchObject({ status: 'degraded', storage: 'full' })
        // Alive, reading works, and nothing of the refused sends was stored.
        expect(server.child.exitCode).toBeNull()
        expect((await history(server.url, bob, room)).map((m) => m.envelope.id)).toEqual(acked.map((m) => m.id))

        fs.rmSync(filler)
        await waitFor(async () => (await api(server.url, 'GET', '/health')).status === 200, 10_000)
        expect((await api(server.url, 'GET', '/health')).body).toMatchObject({ status: 'ok', storage: 'ok' })
        for (let i = 0; i < 5; i++) {
          const sent = await alice.send(bob, `after ${i}`, { room })
          expect(sent.status).toBe(200)
          acked.push({ id: sent.body.id, cid: sent.body.cid })
        }
        const messages = await history(server.url, bob, room)
        expect(messages.map((m) => m.envelope.id)).toEqual(acked.map((m) => m.id))
        expect(messages.map((m) => m.seq)).toEqual(acked.map((_, i) => i + 1))
        // Block store writes work again too.
        await waitFor(() => storedBlocks() === acked.length, 30_000)

        // A clean stop on a full disk is still clean, and a restart once space returns has it all.
        const second = fillDisk()
        await server.stop()
        expect(await server.exited()).toBe('0')
        fs.rmSync(second)
        server = await ServerProcess.start(env)
        expect((await history(server.url, bob, room)).map((m) => m.envelope.id)).toEqual(acked.map((m) => m.id))
      } finally {
        fs.rmSync(path.join(disk, 'filler'), { force: true })
        await server.stop()
        fs.rmSync(dataDir, { recursive: true, force: true })
      }
    }, 120_000)

    test.each([
      'sqlite',
      'disk',
    ] as const)('behavior: %s block store writes on a full disk throw StorageFullError, then work again', async (provider) => {
      const dir = path.join(disk, `blocks-${provider}`)
      fs.mkdirSync(dir)
      const store = await createBlockStore(
        provider === 'sqlite' ? { provider, path: path.join(dir, 'blocks.sqlite') } : { provider, dir: path.join(dir, 'files') },
      )
      const filler = path.join(disk, `filler-${provider}`)
      try {
        const block = (i: number) => {
          const { cid, bytes } = toBlock({ block: i, padding: 'x'.repeat(32 * 1024) })
          return { cid, bytes }
        }
        fillDisk(`filler-${provider}`)
        const failed = await store.put([block(1), block(2), block(3)]).then(
          () => undefined,
          (error: unknown) => error,
        )
        expect(failed).toBeInstanceOf(Error)
        expect((failed as Error).name).toBe('StorageFullError')
        expect(isStorageFull(failed)).toBe(true)
        // No half-written temporary file is left to hold the space.
        const leftovers = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tmp'))
        expect(leftovers).toEqual([])
        fs.rmSync(filler)
        await store.put([block(1), block(4)])
        expect(await store.get(block(1).cid)).toEqual(block(1).bytes)
        expect(await store.get(block(4).cid)).toEqual(block(4).bytes)
      } finally {
        fs.rmSync(filler, { force: true })
        await store.destroy()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })

    test('behavior: a checkpoint that hits a full disk is reported, never crashes, and succeeds once space returns', async () => {
      const file = path.join(disk, 'checkpoint.sqlite')
      const sqlite = new Database(file)
      sqlite.pragma('journal_mode = WAL')
      sqlite.pragma('wal_autocheckpoint = 0')
      const errors: CheckpointError[] = []
      const checkpointer = SqliteCheckpointer.start(file, {
        exclusive: (fn) => fn(),
        onError: (error) => errors.push(error),
        // Only the checkpoints this test asks for.
        intervalMs: 60_000,
        idleMs: 60_000,
      })
      const filler = path.join(disk, 'filler-checkpoint')
      try {
        sqlite.exec('create table rows (bytes blob)')
        const insert = sqlite.prepare('insert into rows values (?)')
        sqlite.transaction(() => {
          for (let i = 0; i < 40; i++) insert.run(Buffer.alloc(32 * 1024, i))
        })()
        // The rows are in the WAL only; copying them into the database file needs ~1.3 MB more.
        fillDisk('filler-checkpoint')
        const failed = await checkpointer.truncate().then(
          () => undefined,
          (error: unknown) => error,
        )
        expect(failed).toBeInstanceOf(CheckpointError)
        expect((failed as CheckpointError).code).toBe('SQLITE_FULL')
        fs.rmSync(filler)
        expect(await checkpointer.truncate()).toBe(true)
        expect(fileSize(`${file}-wal`)).toBe(0)
        expect(sqlite.prepare('select count(*) as n from rows').get()).toEqual({ n: 40 })
        expect(errors).toEqual([])
      } finally {
        fs.rmSync(filler, { force: true })
        await checkpointer.stop()
        sqlite.close()
        fs.rmSync(file, { force: true })
      }
    })
  },
)

describe.each(DIALECTS)('/health (%s)', (dialect) => {
  test('default: ok, with storage ok', async () => {
    await using server = await TestServer.create({ dialect })
    const health = await api(server.url, 'GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body).toEqual({ status: 'ok', storage: 'ok', version: expect.any(String), uptimeSeconds: expect.any(Number) })
  })
})
