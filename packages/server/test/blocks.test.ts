/**
 * `GET /ipfs/{cid}`: envelopes, key bundles and manifests served as raw blocks, as an IPFS
 * trustless gateway does; from the database before a sync, from the block store after it (even
 * once the row is gone). Runs on each database, with the disk block store and with the Kubo block
 * store against the fake Kubo (so the whole server is shown working on the Kubo adapter).
 */
import { cidOfBlock, decodeCanonical, envelopeSchema, keyBundleSchema, manifestSchema } from '@dmtp/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { FakeKubo } from './_fake-kubo.js'
import { DIALECTS, TestServer } from './_util.js'
import { TestWallet } from './_wallet.js'

const CASES = DIALECTS.flatMap((dialect) => (['disk', 'kubo'] as const).map((store) => [dialect, store] as const))

/** GETs (or HEADs) a block; the raw bytes, and the JSON body when there is one. */
async function fetchBlock(server: TestServer, cid: string, method = 'GET') {
  const response = await fetch(`${server.url}/ipfs/${cid}`, { method })
  const bytes = new Uint8Array(await response.arrayBuffer())
  const isJson = response.headers.get('content-type')?.startsWith('application/json')
  return {
    status: response.status,
    headers: response.headers,
    bytes,
    body: isJson ? JSON.parse(new TextDecoder().decode(bytes)) : undefined,
  }
}

describe.each(CASES)('GET /ipfs/{cid} (%s, %s block store)', (dialect, store) => {
  let kubo: FakeKubo | undefined
  let server: TestServer
  let alice: TestWallet
  let bob: TestWallet
  beforeAll(async () => {
    const fake = store === 'kubo' ? await FakeKubo.start() : undefined
    kubo = fake
    server = await TestServer.create({
      dialect,
      configure: (config) => {
        if (fake) config.blockStore = { provider: 'kubo', url: fake.url }
      },
    })
    alice = await new TestWallet(server.url).setup()
    bob = await new TestWallet(server.url).setup()
  })
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]()
    await kubo?.close()
  })

  test('default: a message is served by its CID, as the envelope that was sent, before any sync', async () => {
    const envelope = await alice.seal(bob, 'hello over IPFS')
    const sent = await alice.post(envelope)
    expect(sent.status).toBe(200)
    const cid: string = sent.body.cid
    expect(await server.ctx.blockStore.has(cid)).toBe(false)

    const served = await fetchBlock(server, cid)
    expect(served.status).toBe(200)
    expect(cidOfBlock(served.bytes)).toBe(cid)
    expect(envelopeSchema.parse(decodeCanonical(served.bytes))).toEqual(envelope)
    expect(Object.fromEntries(served.headers)).toMatchObject({
      'content-type': 'application/vnd.ipld.raw',
      'content-length': String(served.bytes.length),
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=29030400, immutable',
      etag: `"${cid}.raw"`,
      'x-ipfs-path': `/ipfs/${cid}`,
    })
  })

  test('behavior: a key bundle is served by its CID', async () => {
    const served = await fetchBlock(server, alice.bundleCid)
    expect(served.status).toBe(200)
    expect(cidOfBlock(served.bytes)).toBe(alice.bundleCid)
    expect(keyBundleSchema.parse(decodeCanonical(served.bytes))).toEqual(alice.bundle)
  })

  test('behavior: HEAD answers the same headers and no body', async () => {
    const served = await fetchBlock(server, bob.bundleCid, 'HEAD')
    expect(served.status).toBe(200)
    expect(served.bytes.length).toBe(0)
    expect(served.headers.get('content-type')).toBe('application/vnd.ipld.raw')
    expect(served.headers.get('etag')).toBe(`"${bob.bundleCid}.raw"`)
    expect(Number(served.headers.get('content-length'))).toBeGreaterThan(0)
  })

  test('behavior: after a sync the blocks and the manifest are in the block store, and served from there once the row is gone', async () => {
    const cids: string[] = []
    for (const text of ['one', 'two']) cids.push((await alice.send(bob, text)).body.cid)
    const sync = await server.ctx.anchoring.syncNow()
    const manifestRow = await server.ctx.database.db
      .selectFrom('manifests')
      .select('cid')
      .where('seq', '=', sync?.seq as number)
      .executeTakeFirstOrThrow()
    expect(manifestRow.cid).toBe(sync?.cid)
    for (const cid of [...cids, alice.bundleCid, bob.bundleCid, manifestRow.cid]) {
      expect(await server.ctx.blockStore.has(cid)).toBe(true)
    }
    if (kubo) expect(kubo.pins.has(manifestRow.cid)).toBe(true)

    const manifest = await fetchBlock(server, manifestRow.cid)
    expect(manifest.status).toBe(200)
    expect(cidOfBlock(manifest.bytes)).toBe(manifestRow.cid)
    const listed = Object.values(manifestSchema.parse(decodeCanonical(manifest.bytes)).rooms).flat()
    expect(listed).toEqual(expect.arrayContaining(cids))

    const before = await fetchBlock(server, cids[0] as string)
    await server.ctx.database.db
      .deleteFrom('messages')
      .where('cid', '=', cids[0] as string)
      .execute()
    const after = await fetchBlock(server, cids[0] as string)
    expect(after.status).toBe(200)
    expect(after.bytes).toEqual(before.bytes)
    expect(cidOfBlock(after.bytes)).toBe(cids[0])
  })

  test('behavior: a database row that does not hash to its CID is not served', async () => {
    const { cid } = (await bob.send(alice, 'to be altered')).body
    await server.ctx.database.db.updateTable('messages').set({ envelope: '{"altered":true}' }).where('cid', '=', cid).execute()
    const served = await fetchBlock(server, cid)
    expect(served.status).toBe(404)
    expect(served.body.error.code).toBe('not_found')
  })

  test('behavior: a malformed CID, a CIDv0, another multibase or another hash is 400 invalid_request', async () => {
    const bad = [
      'hello',
      // CIDv0 (base58btc, dag-pb, implicit sha2-256)
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
      // a CIDv1 of ours, in base58btc instead of base32
      'z4EBG9jBwp6eav6zu4GoEFqCy3p4u19BzR3hh4YJeo6Yz2HDokU',
      // CIDv1 dag-json with a sha3-256 multihash
      'baguqefras45eqabtbefombkxfdmojduwo3qgeysxrxgbx2ub4i3dssxjv2za',
    ]
    for (const cid of bad) {
      const served = await fetchBlock(server, cid)
      expect(served.status, cid).toBe(400)
      expect(served.body.error).toEqual({
        code: 'invalid_request',
        message: `"${cid}" is not a block CID: expected a CIDv1 with a sha2-256 multihash, in base32 (bagu…).`,
      })
    }
  })

  test('behavior: a valid CID that no block has is 404 not_found', async () => {
    const cid = cidOfBlock(new TextEncoder().encode('{"never":"stored"}'))
    const served = await fetchBlock(server, cid)
    expect(served.status).toBe(404)
    expect(served.body.error).toEqual({ code: 'not_found', message: `No block with CID ${cid}.` })
  })

  test('behavior: OpenAPI documents the route as answering raw blocks', async () => {
    const docs = await fetch(`${server.url}/docs/json`).then((response) => response.json())
    const route = docs.paths['/ipfs/{cid}'].get
    expect(route.parameters).toEqual([expect.objectContaining({ in: 'path', name: 'cid', required: true })])
    expect(route.responses[200].content).toEqual({
      'application/vnd.ipld.raw': { schema: expect.objectContaining({ type: 'string', format: 'binary' }) },
    })
  })
})

describe('GET /ipfs/{cid} (sqlite, Kubo down)', () => {
  test('behavior: a block store that fails is 502 upstream_failure, and the cause is logged', async () => {
    const kubo = await FakeKubo.start()
    await using server = await TestServer.create({
      configure: (config) => {
        config.blockStore = { provider: 'kubo', url: kubo.url }
      },
    })
    await kubo.close()
    const cid = cidOfBlock(new TextEncoder().encode('{"v":1}'))
    const served = await fetchBlock(server, cid)
    expect(served.status).toBe(502)
    expect(served.body.error).toEqual({ code: 'upstream_failure', message: 'The block store failed; try again later.' })
    expect(server.logs.join('')).toContain('(POST /api/v0/block/get) did not answer: connection refused')
  })
})
