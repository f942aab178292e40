/**
 * Block store adapters: each runs the shared contract (port-contracts/block-store.ts): the SQLite
 * store (the embedded default) and the disk store on a temp dir, the Kubo store over HTTP against the fake Kubo and, when
 * DMTP_TEST_KUBO_URL names one, a real Kubo node. Then what is particular to each adapter.
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, test } from 'vitest'
import { DiskBlockStore } from '../src/ports/block-store/disk-block-store.js'
import { createBlockStore } from '../src/ports/block-store/index.js'
import { KuboBlockStore } from '../src/ports/block-store/kubo-block-store.js'
import { SqliteBlockStore } from '../src/ports/block-store/sqlite-block-store.js'
import { FakeKubo } from './_fake-kubo.js'
import { randomBlock, testBlockStoreContract } from './port-contracts/block-store.js'

const realKuboUrl = process.env.DMTP_TEST_KUBO_URL

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-blocks-'))
}

describe('SQLite block store', () => {
  testBlockStoreContract(async () => {
    const dir = tempDir()
    const store = await createBlockStore({ provider: 'sqlite', path: path.join(dir, 'blocks.sqlite') })
    return {
      store,
      dispose: async () => {
        await store.destroy()
        fs.rmSync(dir, { recursive: true })
      },
    }
  })

  test('behavior: a corrupted row reads as missing, putting the block again repairs it, and deleted bytes leave the file', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'blocks.sqlite')
    const store = await SqliteBlockStore.create({ path: file })
    try {
      const block = randomBlock()
      await store.put([block])
      const raw = new Database(file)
      raw.prepare('update blocks set bytes = ? where cid = ?').run(Buffer.from('{"nonce":"tampered","v":1}'), block.cid)
      raw.close()
      expect(await store.get(block.cid)).toBeUndefined()
      expect(await store.has(block.cid)).toBe(false)
      await store.put([block])
      expect(await store.get(block.cid)).toEqual(block.bytes)

      const secret = { cid: block.cid, text: Buffer.from(block.bytes).toString('latin1').slice(8, 40) }
      await store.delete([block.cid])
      expect(await store.get(block.cid)).toBeUndefined()
      for (const name of fs.readdirSync(dir)) {
        expect(fs.readFileSync(path.join(dir, name), 'latin1')).not.toContain(secret.text)
      }
    } finally {
      await store.destroy()
      fs.rmSync(dir, { recursive: true })
    }
  })
})

describe('disk block store', () => {
  testBlockStoreContract(async () => {
    const dir = tempDir()
    return { store: await createBlockStore({ provider: 'disk', dir }), dispose: async () => fs.rmSync(dir, { recursive: true }) }
  })

  test('behavior: a corrupted file reads as missing, and putting the block again repairs it', async () => {
    const dir = tempDir()
    try {
      const store = await DiskBlockStore.create({ dir })
      const block = randomBlock()
      await store.put([block])
      const [file] = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith(block.cid))
      fs.writeFileSync(path.join(dir, file as string), '{"nonce":"tampered","v":1}')
      expect(await store.get(block.cid)).toBeUndefined()
      expect(await store.has(block.cid)).toBe(false)
      await store.put([block])
      expect(await store.get(block.cid)).toEqual(block.bytes)
    } finally {
      fs.rmSync(dir, { recursive: true })
    }
  })
})

describe('Kubo block store (fake Kubo over HTTP)', () => {
  testBlockStoreContract(async () => {
    const kubo = await FakeKubo.start()
    return { store: await createBlockStore({ provider: 'kubo', url: kubo.url }), dispose: () => kubo.close() }
  })

  test('default: blocks are put as dag-json, sha2-256 and pinned; read offline; unpinned before removal', async () => {
    await using kubo = await FakeKubo.start()
    const store = await KuboBlockStore.create({ url: `${kubo.url}/` })
    const block = randomBlock()
    await store.put([block])
    expect(kubo.pins.has(block.cid)).toBe(true)
    await store.get(block.cid)
    await store.has(block.cid)
    await store.delete([block.cid])
    expect(kubo.blocks.has(block.cid)).toBe(false)
    expect(kubo.requests).toEqual([
      'version',
      'block/put?cid-codec=dag-json&mhtype=sha2-256&pin=true',
      `block/get?arg=${block.cid}&offline=true`,
      `block/stat?arg=${block.cid}&offline=true`,
      `pin/rm?arg=${block.cid}`,
      `block/rm?arg=${block.cid}&force=true`,
    ])
  })

  test('behavior: a node that answers with another CID than ours is refused', async () => {
    await using kubo = await FakeKubo.start({ wrongCid: true })
    const store = await KuboBlockStore.create({ url: kubo.url })
    const block = randomBlock()
    const error = await store.put([block]).catch((caught: Error) => caught)
    expect(error).toMatchObject({ name: 'KuboError' })
    expect(redact(error, kubo.url, block.cid)).toMatchInlineSnapshot(`
      "Kubo at <kubo> (POST /api/v0/block/put) stored a block as "<other>", but its CID is <cid>: the node hashes or encodes blocks differently.
      Version: @dmtp/protocol@0.1.0"
    `)
  })

  test('behavior: a node that serves bytes that do not match the CID is an error, not a block', async () => {
    await using kubo = await FakeKubo.start()
    const store = await KuboBlockStore.create({ url: kubo.url })
    const block = randomBlock()
    await store.put([block])
    kubo.blocks.set(block.cid, new TextEncoder().encode('{"v":2}'))
    await expect(store.get(block.cid)).rejects.toThrow(
      `(POST /api/v0/block/get) returned bytes that do not hash to ${block.cid}.`,
    )
  })

  test('behavior: a block another pinned DAG links to cannot be removed, and says so', async () => {
    await using kubo = await FakeKubo.start()
    const store = await KuboBlockStore.create({ url: kubo.url })
    const block = randomBlock()
    await store.put([block])
    kubo.indirectPins.add(block.cid)
    const error = await store.delete([block.cid]).catch((caught: Error) => caught)
    expect(redact(error, kubo.url, block.cid)).toMatchInlineSnapshot(`
      "Kubo at <kubo> (POST /api/v0/block/rm) could not remove <cid>.

      Details: pinned (indirect)
      Version: @dmtp/protocol@0.1.0"
    `)
  })

  test('behavior: a Kubo that is down fails the boot with a clear message', async () => {
    const server = http.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await new Promise((resolve) => server.close(resolve))
    const error = await createBlockStore({ provider: 'kubo', url }).catch((caught: Error) => caught)
    expect(error).toMatchObject({ name: 'KuboError' })
    expect(redact(error, url)).toMatchInlineSnapshot(`
      "Kubo at <kubo> (POST /api/v0/version) did not answer: connection refused (is the Kubo daemon running?).

      DMTP_IPFS_API must name the RPC API of a running Kubo node (e.g. http://127.0.0.1:5001).
      Start the node, or unset DMTP_IPFS_API to keep blocks on disk.
      Version: @dmtp/protocol@0.1.0"
    `)
  })

  test('behavior: something that is not Kubo fails the boot with a clear message', async () => {
    await using kubo = await FakeKubo.start()
    const error = await createBlockStore({ provider: 'kubo', url: `${kubo.url}/not-kubo` }).catch((caught: Error) => caught)
    expect(redact(error, `${kubo.url}/not-kubo`)).toMatchInlineSnapshot(`
      "Kubo at <kubo> (POST /api/v0/version) failed with HTTP 404.

      DMTP_IPFS_API must name the RPC API of a running Kubo node (e.g. http://127.0.0.1:5001).
      Start the node, or unset DMTP_IPFS_API to keep blocks on disk.

      Details: 404 page not found
      Version: @dmtp/protocol@0.1.0"
    `)
  })

  test('behavior: a Kubo that hangs times out with a clear message', async () => {
    const server = http.createServer(() => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const error = await KuboBlockStore.create({ url }, { timeoutMs: 200 }).catch((caught: Error) => caught)
      expect(redact(error, url)).toMatchInlineSnapshot(`
        "Kubo at <kubo> (POST /api/v0/version) did not answer: timed out after 200 ms.

        DMTP_IPFS_API must name the RPC API of a running Kubo node (e.g. http://127.0.0.1:5001).
        Start the node, or unset DMTP_IPFS_API to keep blocks on disk.
        Version: @dmtp/protocol@0.1.0"
      `)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe.skipIf(!realKuboUrl)('real Kubo (set DMTP_TEST_KUBO_URL to run)', () => {
  testBlockStoreContract(async () => ({ store: await createBlockStore({ provider: 'kubo', url: realKuboUrl as string }) }))
})

/** The error's rendered message with the (random) URL and CIDs replaced, for inline snapshots. */
function redact(error: unknown, url: string, cid?: string): string {
  let text = error instanceof Error ? error.message : String(error)
  text = text.replaceAll(url, '<kubo>')
  if (cid) text = text.replaceAll(cid, '<cid>')
  return text.replace(/"bagu[a-z2-7]+"/, '"<other>"')
}
