/**
 * Fixtures for the verify and recover hardening tests: a real server (on the dialect under test,
 * with the embedded anvil) behind a real proxy, conversations anchored on chain, and what an
 * operator can do behind the clients' backs: drop blocks from the embedded block store, lose the
 * database, or delete a whole room's rows.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import type { DialectName } from '../../server/test/_util.js'
import type { DmtpClient } from '../src/index.js'
import { MitmProxy } from './_proxy.js'
import { newClient, TestServer } from './_util.js'

export type Proxied = { server: TestServer; proxy: MitmProxy } & AsyncDisposable

export async function proxiedServer(dialect: DialectName, options: { chain?: boolean } = {}): Promise<Proxied> {
  const proxy = await MitmProxy.create()
  const server = await TestServer.create({
    dialect,
    chain: options.chain ?? true,
    configure: (c) => {
      c.service.publicUrl = proxy.url
      Object.assign(c.limits, { messagesPerSecond: 10_000, messageBurst: 10_000, requestsPerMinute: 100_000 })
    },
  })
  proxy.target = server.server.port
  return {
    server,
    proxy,
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]()
      await proxy[Symbol.asyncDispose]()
    },
  }
}

export type Wallet = DmtpClient & { key: string; address: string }

export async function wallets(url: string, count: number): Promise<Wallet[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = newClient(url, undefined, { node: true })
      await client.setup()
      return Object.assign(client, { address: (await client.getWallet()).address })
    }),
  )
}

/** A fresh client of the same wallet: no caches from before the tampering. */
export const again = (url: string, wallet: Wallet): Wallet =>
  Object.assign(newClient(url, wallet.key, { node: true }), { address: wallet.address })

/** Syncs now and waits until every wallet's key is on chain (keys go in batches of their own). */
export async function anchorAll(server: TestServer, addresses: string[]): Promise<void> {
  await server.ctx.anchoring.syncNow()
  const deadline = Date.now() + 20_000
  for (const address of addresses) {
    while ((await server.ctx.chain?.keyOf(address)) === '') {
      if (Date.now() > deadline) throw new Error(`the key of ${address} is not on chain after 20 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/** Deletes blocks from the embedded block store (`<data>/blocks.sqlite`); the server must be stopped. */
export function dropBlocks(server: TestServer, cids: string[]): void {
  const sqlite = new Database(path.join(server.options.dataDir, 'blocks.sqlite'))
  try {
    const remove = sqlite.prepare('delete from blocks where cid = ?')
    for (const cid of cids) if (remove.run(cid).changes !== 1) throw new Error(`no block ${cid} to drop`)
  } finally {
    sqlite.close()
  }
}

/** Every block the embedded block store holds, by CID, decoded; the server must be stopped. */
export function storedBlocks(server: TestServer): Map<string, any> {
  const sqlite = new Database(path.join(server.options.dataDir, 'blocks.sqlite'), { readonly: true })
  try {
    const rows = sqlite.prepare('select cid, bytes from blocks').all() as { cid: string; bytes: Buffer }[]
    return new Map(rows.map(({ cid, bytes }) => [cid, JSON.parse(bytes.toString('utf8'))]))
  } finally {
    sqlite.close()
  }
}

/** The server's database gone (its files, or its PostgreSQL schema); the server must be stopped. */
export async function loseDatabase(server: TestServer): Promise<void> {
  if (server.options.dialect === 'sqlite') {
    for (const suffix of ['', '-wal', '-shm'])
      fs.rmSync(path.join(server.options.dataDir, `dmtp.sqlite${suffix}`), { force: true })
    return
  }
  const client = new pg.Client({ connectionString: process.env.DMTP_TEST_POSTGRES_URL })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${server.options.schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** A room's rows deleted from the server's database, as an operator hiding it would. */
export async function deleteRoomRows(server: TestServer, room: string): Promise<void> {
  const db = server.ctx.database.db
  await db.deleteFrom('messages').where('room_id', '=', room).execute()
  await db.deleteFrom('room_members').where('room_id', '=', room).execute()
  await db.deleteFrom('rooms').where('id', '=', room).execute()
}
