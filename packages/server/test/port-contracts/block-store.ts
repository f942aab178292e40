/**
 * The BlockStore contract: what every adapter (disk, Kubo, …) must do, as one suite each adapter
 * runs (STYLE §3, §6). Blocks are made of random bytes, so a store that outlives a run (a real
 * Kubo node) never holds them beforehand.
 */
import { randomBytes } from 'node:crypto'
import { cidOfBlock, toBlock } from '@dmtp/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Block, BlockStore } from '../../src/ports/block-store/types.js'

export type BlockStoreFixture = { store: BlockStore; dispose?: () => Promise<void> }

/** A fresh DAG-JSON block with random content. */
export function randomBlock(): Block {
  const { bytes, cid } = toBlock({ nonce: randomBytes(16).toString('base64url'), v: 1 })
  return { cid, bytes }
}

/**
 * Runs the contract against the store `open` gives (opened once, disposed after the suite). Every
 * block it put is deleted at the end, so a real node is left as it was found.
 */
export function testBlockStoreContract(open: () => Promise<BlockStoreFixture>): void {
  let fixture: BlockStoreFixture
  let store: BlockStore
  const written = new Set<string>()
  const put = (blocks: Block[]) => {
    for (const block of blocks) written.add(block.cid)
    return store.put(blocks)
  }
  beforeAll(async () => {
    fixture = await open()
    store = fixture.store
  })
  afterAll(async () => {
    await fixture?.store.delete([...written])
    await fixture?.store.destroy()
    await fixture?.dispose?.()
  })

  describe('BlockStore contract', () => {
    test('default: a block put can be got back, byte for byte', async () => {
      const block = randomBlock()
      await put([block])
      expect(await store.get(block.cid)).toEqual(block.bytes)
    })

    test('behavior: has is false before put, true after', async () => {
      const block = randomBlock()
      expect(await store.has(block.cid)).toBe(false)
      await put([block])
      expect(await store.has(block.cid)).toBe(true)
    })

    test('behavior: putting a block again is fine, also several times at once', async () => {
      const block = randomBlock()
      await put([block])
      await put([block, block])
      await Promise.all([put([block]), put([block])])
      expect(await store.get(block.cid)).toEqual(block.bytes)
    })

    test('behavior: get of a CID never stored is undefined', async () => {
      const { cid } = randomBlock()
      expect(await store.get(cid)).toBeUndefined()
      expect(await store.has(cid)).toBe(false)
    })

    test('behavior: delete removes only what it names; deleting again, or what never was, is fine', async () => {
      const [gone, kept] = [randomBlock(), randomBlock()]
      await put([gone, kept])
      await store.delete([gone.cid])
      expect(await store.get(gone.cid)).toBeUndefined()
      expect(await store.has(gone.cid)).toBe(false)
      expect(await store.get(kept.cid)).toEqual(kept.bytes)
      await store.delete([gone.cid, randomBlock().cid])
      await store.delete([])
      await put([gone])
      expect(await store.get(gone.cid)).toEqual(gone.bytes)
    })

    test('behavior: many blocks in one put, got and deleted together', async () => {
      const blocks = Array.from({ length: 150 }, randomBlock)
      await put(blocks)
      const got = await Promise.all(blocks.map((block) => store.get(block.cid)))
      expect(got).toEqual(blocks.map((block) => block.bytes))
      await store.delete(blocks.map((block) => block.cid))
      expect(await Promise.all(blocks.map((block) => store.has(block.cid)))).toEqual(blocks.map(() => false))
    })

    test('behavior: bytes are kept exactly (every byte value, CR LF, multipart-like lines, non-ASCII)', async () => {
      const all = new Uint8Array(256).map((_, i) => i)
      const tricky = new TextEncoder().encode('\r\n--boundary\r\nContent-Disposition: form-data\r\n\r\n€ ünïcode 🔑\r\n')
      const blocks = [all, tricky, new Uint8Array([0, 0, 0]), randomBytes(64 * 1024)].map((bytes) => ({
        cid: cidOfBlock(bytes),
        bytes: new Uint8Array(bytes),
      }))
      await put(blocks)
      for (const block of blocks) expect(await store.get(block.cid)).toEqual(block.bytes)
    })
  })
}
