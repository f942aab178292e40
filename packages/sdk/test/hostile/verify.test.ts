/**
 * A server that lies, caught: after anchoring, each manipulation is done directly in the database
 * or the block store (then the server restarts, as a tampering operator's would), and `verify`
 * must report it. Also: a rolled-back key bundle is refused, and a room is recovered from the chain
 * and the block store after the database is deleted.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { KeyBundleRejectedError } from '../../src/index.js'
import { newClient, rawBlocks, TestServer } from '../_util.js'
import { attack } from './attack.js'

async function waitFor(probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Two wallets, 6 messages in two anchored syncs, then one pending message. */
async function anchoredConversation() {
  const server = await TestServer.create({ chain: true })
  const alice = newClient(server.url, undefined, { node: true })
  const bob = newClient(server.url, undefined, { node: true })
  await alice.setup()
  await bob.setup()
  const aliceAddress = (await alice.getWallet()).address
  const bobAddress = (await bob.getWallet()).address
  const sent = []
  for (let i = 0; i < 3; i++) sent.push(await alice.send(bobAddress, `first sync ${i}`))
  await server.ctx.anchoring.syncNow()
  for (let i = 0; i < 3; i++) sent.push(await bob.send(aliceAddress, `second sync ${i}`))
  await server.ctx.anchoring.syncNow()
  sent.push(await alice.send(bobAddress, 'not synced yet'))
  const chain = server.ctx.chain
  await waitFor(async () => (await chain?.keyOf(bobAddress)) !== '' && (await chain?.keyOf(aliceAddress)) !== '')
  return { server, alice, bob, aliceAddress, bobAddress, sent, room: sent[0]?.room as string }
}

/** Tampers, restarts the server, and verifies with a fresh client (no caches). */
async function tamperAndVerify(setup: Awaited<ReturnType<typeof anchoredConversation>>, tamper: () => Promise<void>) {
  await tamper()
  await setup.server.restart()
  return newClient(setup.server.url, setup.alice.key, { node: true }).verify()
}

const db = (setup: Awaited<ReturnType<typeof anchoredConversation>>) => setup.server.ctx.database.db

describe('verify (sqlite, anvil)', () => {
  test('default: an honest server verifies: every synced message anchored, the last one pending', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const progress: string[] = []
    const report = await setup.alice.verify({ onProgress: ({ phase }) => progress.push(phase) })
    expect(report).toMatchObject({
      anchored: 6,
      pending: 1,
      missing: 0,
      altered: 0,
      keys: { anchored: 2, mismatched: 0 },
      ok: true,
    })
    expect(report.manifests).toMatchObject({ count: 2, unavailable: 0, breaks: 0 })
    expect(report.details).toEqual([expect.objectContaining({ status: 'pending', cid: setup.sent[6]?.cid })])
    expect(progress).toContain('manifests')
  })

  // Shown as altered at once, and reported by verify.
  attack('an envelope edited at rest', 'at once', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const report = await tamperAndVerify(setup, async () => {
      const row = await db(setup)
        .selectFrom('messages')
        .select(['id', 'envelope'])
        .where('cid', '=', setup.sent[1]?.cid as string)
        .executeTakeFirstOrThrow()
      const envelope = JSON.parse(row.envelope)
      envelope.messages = `${envelope.messages.slice(0, -4)}AAAA`
      await db(setup)
        .updateTable('messages')
        .set({ envelope: JSON.stringify(envelope) })
        .where('id', '=', row.id)
        .execute()
    })
    expect(report).toMatchObject({ altered: 1, missing: 0, ok: false })
    expect(report.details[0]).toMatchObject({ status: 'altered', cid: setup.sent[1]?.cid })
    const page = await newClient(setup.server.url, setup.bob.key, { node: true }).messages(setup.aliceAddress)
    expect(page.messages.map((m) => [m.text, m.status]).slice(0, 3)).toEqual([
      ['first sync 0', 'ok'],
      [null, 'altered'],
      ['first sync 2', 'ok'],
    ])
  })

  test('behavior: a deleted message is caught', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const report = await tamperAndVerify(setup, async () => {
      await db(setup)
        .deleteFrom('messages')
        .where('cid', '=', setup.sent[4]?.cid as string)
        .execute()
    })
    expect(report).toMatchObject({ missing: 1, altered: 0, ok: false })
    expect(report.details).toContainEqual(expect.objectContaining({ status: 'missing', cid: setup.sent[4]?.cid }))
  })

  // Nothing follows them to show a gap: no read can tell; verify reports the anchored one missing.
  attack("a room's newest messages dropped for good", 'on verify', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const newest = [setup.sent[5]?.cid as string, setup.sent[6]?.cid as string]
    const report = await tamperAndVerify(setup, async () => {
      await db(setup).deleteFrom('messages').where('cid', 'in', newest).execute()
    })
    const page = await newClient(setup.server.url, setup.bob.key, { node: true }).messages(setup.aliceAddress)
    expect(page.messages.map((m) => m.cid)).toEqual(setup.sent.slice(0, 5).map((sent) => sent.cid))
    expect(page.gaps).toEqual([])
    expect(report).toMatchObject({ missing: 1, altered: 0, pending: 0, ok: false })
    expect(report.details).toEqual([expect.objectContaining({ status: 'missing', cid: newest[0] })])
  })

  attack('anchored messages reordered in the database', 'on verify', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const report = await tamperAndVerify(setup, async () => {
      const [a, b] = [setup.sent[0]?.cid as string, setup.sent[2]?.cid as string]
      await db(setup).updateTable('messages').set({ seq: -1 }).where('cid', '=', a).execute()
      await db(setup).updateTable('messages').set({ seq: 1 }).where('cid', '=', b).execute()
      await db(setup).updateTable('messages').set({ seq: 3 }).where('cid', '=', a).execute()
    })
    expect(report.altered).toBeGreaterThanOrEqual(1)
    expect(report.ok).toBe(false)
    expect(report.details.map((d) => d.reason)).toContain('served out of its anchored order')
  })

  // Whether its signed timestamp or its received time moves.
  attack('an anchored message back-dated in the database', 'on verify', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const report = await tamperAndVerify(setup, async () => {
      // The signed timestamp: the envelope (and so its CID) changes; the server relabels it too.
      const row = await db(setup)
        .selectFrom('messages')
        .select(['id', 'envelope'])
        .where('cid', '=', setup.sent[3]?.cid as string)
        .executeTakeFirstOrThrow()
      const envelope = JSON.parse(row.envelope)
      envelope.timestamp = '2020-01-01T00:00:00.000Z'
      const { toBlock } = await import('@dmtp/protocol')
      const block = toBlock(envelope)
      await db(setup)
        .updateTable('messages')
        .set({ envelope: block.text, cid: block.cid, timestamp: envelope.timestamp })
        .where('id', '=', row.id)
        .execute()
      // The received time of another anchored message, moved before the sync that preceded it.
      await db(setup)
        .updateTable('messages')
        .set({ received_at: '2020-01-01T00:00:00.000Z' })
        .where('cid', '=', setup.sent[5]?.cid as string)
        .execute()
    })
    expect(report).toMatchObject({ altered: 2, missing: 0, ok: false })
    expect(
      report.details
        .filter((d) => d.status !== 'pending')
        .map((d) => d.reason)
        .sort(),
    ).toEqual(
      [
        `differs from the anchored message ${setup.sent[3]?.cid}`,
        'its received time does not fit the sync that anchored it',
      ].sort(),
    )
  })

  attack('a message inserted among anchored ones', 'on verify', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const report = await tamperAndVerify(setup, async () => {
      // The pending message, moved among the anchored ones with an old received time.
      const cid = setup.sent[6]?.cid as string
      await db(setup).updateTable('messages').set({ seq: 100 }).where('cid', '=', cid).execute()
      for (const seq of [6, 5, 4])
        await db(setup)
          .updateTable('messages')
          .set({ seq: seq + 1 })
          .where('room_id', '=', setup.room)
          .where('seq', '=', seq)
          .execute()
      await db(setup)
        .updateTable('messages')
        .set({ seq: 4, received_at: '2020-01-01T00:00:00.000Z' })
        .where('cid', '=', cid)
        .execute()
    })
    expect(report).toMatchObject({ altered: 1, pending: 0, ok: false })
    expect(report.details[0]).toMatchObject({ cid: setup.sent[6]?.cid, reason: 'inserted among anchored messages' })
  })

  attack('an anchored manifest edited in the block store', 'on verify', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const report = await tamperAndVerify(setup, async () => {
      const manifest = await db(setup).selectFrom('manifests').select('cid').where('seq', '=', 1).executeTakeFirstOrThrow()
      rawBlocks(setup.server.options.dataDir).rewrite(manifest.cid, (text) => text.replace('"index":1', '"index":7'))
    })
    expect(report.ok).toBe(false)
    expect(report.manifests.unavailable).toBe(1)
  })

  // Nobody encrypts to it, whois says why, and verify reports it.
  attack('a key bundle rolled back after the newer one is anchored', 'at once', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    const old = await db(setup)
      .selectFrom('key_bundles')
      .select('cid')
      .where('address', '=', setup.bobAddress)
      .executeTakeFirstOrThrow()
    const rotated = await setup.bob.setup({ rotate: true })
    await waitFor(async () => (await setup.server.ctx.chain?.keyOf(setup.bobAddress)) === rotated.cid)
    const report = await tamperAndVerify(setup, async () => {
      await db(setup)
        .updateTable('key_bundles')
        .set({ replaced_at: new Date().toISOString() })
        .where('cid', '=', rotated.cid)
        .execute()
      await db(setup).updateTable('key_bundles').set({ replaced_at: null }).where('cid', '=', old.cid).execute()
    })
    expect(report.keys).toMatchObject({ mismatched: 1 })
    expect(report.ok).toBe(false)
    const alice = newClient(setup.server.url, setup.alice.key, { node: true })
    await expect(alice.send(setup.bobAddress, 'to the old key?')).rejects.toBeInstanceOf(KeyBundleRejectedError)
    expect(await alice.whois(setup.bobAddress)).toMatchObject({
      verified: false,
      problem: expect.stringMatching(/not the key bundle anchored on chain/),
    })
  })
})

describe('recover (sqlite, anvil)', () => {
  test('default: a room comes back from the chain and the block store after the database is deleted', async () => {
    const setup = await anchoredConversation()
    await using _server = setup.server
    await setup.server.stop()
    for (const suffix of ['', '-wal', '-shm'])
      fs.rmSync(path.join(setup.server.options.dataDir, `dmtp.sqlite${suffix}`), { force: true })
    await setup.server.restart()
    const bob = newClient(setup.server.url, setup.bob.key, { node: true })
    const recovered = await bob.recover({ room: setup.room })
    expect(recovered.unavailable).toEqual([])
    expect(recovered.messages.map((m) => [m.text, m.status])).toEqual([
      ...[0, 1, 2].map((i) => [`first sync ${i}`, 'ok']),
      ...[0, 1, 2].map((i) => [`second sync ${i}`, 'ok']),
    ])
    expect(recovered.messages[0]?.manifest.chainIndex).toBe(0)
  })
})
