import path from 'node:path'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import Database from 'better-sqlite3'
import { generatePrivateKey } from 'viem/accounts'
import { createClient, type DmtpClient, privateKeyWallet, type StreamEvent, type StreamReturnType } from '../src/index.js'

export { DIALECTS, TestServer } from '../../server/test/_util.js'

export function newClient(
  server: string,
  key: string = generatePrivateKey(),
  options: { node?: boolean } = {},
): DmtpClient & { key: string } {
  const client = createClient({ server, wallet: privateKeyWallet(key), ...(options.node ? { crypto: nodeCryptoBackend } : {}) })
  return Object.assign(client, { key })
}

/** Pulls events from a stream until `until` says stop, with a timeout. */
export async function collect(
  stream: StreamReturnType,
  until: (events: StreamEvent[]) => boolean,
  timeoutMs = 10_000,
): Promise<StreamEvent[]> {
  const events: StreamEvent[] = []
  const iterator = stream[Symbol.asyncIterator]()
  const deadline = Date.now() + timeoutMs
  while (!until(events)) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) throw new Error(`timed out; got ${JSON.stringify(events.map((e) => e.type))}`)
    const next = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), remaining)),
    ])
    if (next === 'timeout') throw new Error(`timed out; got ${JSON.stringify(events.map((e) => e.type))}`)
    if (next.done) break
    events.push(next.value)
  }
  return events
}

export const messagesOf = (events: StreamEvent[]) => events.flatMap((event) => (event.type === 'message' ? [event.message] : []))

/**
 * The rows of a server's embedded block store (`<data>/blocks.sqlite`), read or rewritten behind
 * the server's back, as a faulty or malicious operator could.
 */
export function rawBlocks(dataDir: string) {
  const file = path.join(dataDir, 'blocks.sqlite')
  return {
    all(): { cid: string; text: string }[] {
      const sqlite = new Database(file, { readonly: true })
      try {
        const rows = sqlite.prepare('select cid, bytes from blocks').all() as { cid: string; bytes: Buffer }[]
        return rows.map(({ cid, bytes }) => ({ cid, text: bytes.toString('utf8') }))
      } finally {
        sqlite.close()
      }
    },
    rewrite(cid: string, change: (text: string) => string): void {
      const sqlite = new Database(file)
      try {
        const bytes = sqlite.prepare('select bytes from blocks where cid = ?').pluck().get(cid) as Buffer
        sqlite.prepare('update blocks set bytes = ? where cid = ?').run(Buffer.from(change(bytes.toString('utf8'))), cid)
      } finally {
        sqlite.close()
      }
    },
  }
}
