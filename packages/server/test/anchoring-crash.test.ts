/**
 * Kill -9 during anchoring: while a manifest is being stored, right after its anchor transaction
 * was sent, and right after a key batch was sent. After a restart everything is anchored, and
 * nothing twice.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { dmtpRegistryAbi } from '@dmtp/contracts'
import { toBlock } from '@dmtp/protocol'
import { createPublicClient, http } from 'viem'
import { describe, expect, test } from 'vitest'
import { freePort, killOrphanAnvil, ServerProcess } from './_server-process.js'
import { api, TestWallet } from './_wallet.js'

// Generous: a restart brings up anvil again and, on a loaded machine, may back off a failed first
// anchoring attempt for a few seconds.
async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function withServerDir(fn: (dir: string, env: Record<string, string>) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-crash-'))
  const port = await freePort()
  const env = {
    DMTP_DATA_DIR: dir,
    DMTP_PORT: String(port),
    DMTP_CHAIN: 'anvil',
    DMTP_LOG_LEVEL: 'warn',
    DMTP_SYNC_INTERVAL: '3600',
    DMTP_SYNC_EVERY: '3',
  }
  try {
    await fn(dir, env)
  } finally {
    killOrphanAnvil(dir)
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function chainOf(url: string) {
  const info = (await api(url, 'GET', '/v1/info')).body.chain
  const client = createPublicClient({ transport: http(info.rpcUrl, { retryCount: 0 }) })
  return {
    anchors: async () =>
      client.readContract({ address: info.registry, abi: dmtpRegistryAbi, functionName: 'getCIDs', args: [0n, 1000n] }),
    keyEvents: async (user: string) =>
      client.getContractEvents({
        address: info.registry,
        abi: dmtpRegistryAbi,
        eventName: 'KeyAdded',
        args: { user: user as `0x${string}` },
        fromBlock: 0n,
      }),
  }
}

describe('anchoring survives kill -9 (sqlite, anvil)', () => {
  for (const point of ['manifest-stored', 'anchor-sent'] as const) {
    test(`behavior: killed at ${point}, every message ends up anchored exactly once`, async () => {
      await withServerDir(async (_dir, env) => {
        // Key bundles are CIDs too (the server's, Alice's, Bob's: three, --sync-every): a clean
        // first run anchors them, so that the third message is what starts the sync that crashes.
        let server = await ServerProcess.start(env)
        const alice = await new TestWallet(server.url).setup()
        const bob = await new TestWallet(server.url).setup()
        await waitFor(async () => (await api(server.url, 'GET', `/v1/anchors/${bob.bundleCid}`)).body.status === 'anchored')
        await server.stop()
        server = await ServerProcess.start({ ...env, DMTP_TEST_CRASH_AT: point })
        const cids: string[] = []
        for (let i = 0; i < 2; i++) cids.push((await alice.send(bob, `before ${i}`)).body.cid)
        // The third message reaches --sync-every; the sync kills the server at the fault point,
        // sometimes before this answer gets out (the message was committed before the sync began).
        const third = await alice.seal(bob, 'the one that triggers the sync')
        cids.push(toBlock(third).cid)
        await alice.post(third).catch((error: Error) => expect(String(error.cause)).toMatch(/ECONNRESET|socket|closed/i))
        expect(await server.exited()).toBe('SIGKILL')

        server = await ServerProcess.start(env)
        try {
          await waitFor(async () => (await api(server.url, 'GET', `/v1/anchors/${cids[2]}`)).body.status === 'anchored')
          for (let i = 0; i < 3; i++) cids.push((await bob.send(alice, `after ${i}`)).body.cid)
          await waitFor(async () => (await api(server.url, 'GET', `/v1/anchors/${cids[5]}`)).body.status === 'anchored')
          const anchors = (await Promise.all(cids.map((cid) => api(server.url, 'GET', `/v1/anchors/${cid}`)))).map((r) => r.body)
          expect(anchors.every((anchor) => anchor.status === 'anchored')).toBe(true)
          const onChain = await (await chainOf(server.url)).anchors()
          expect(new Set(onChain).size).toBe(onChain.length)
          // After the clean run's manifest (the key bundles), each message manifest once, in order.
          expect(onChain.slice(1)).toEqual([...new Set(anchors.map((anchor) => anchor.manifest.cid))])
        } finally {
          await server.stop()
        }
      })
    }, 150_000)
  }

  test('behavior: killed right after sending a key batch, each key is anchored once', async () => {
    await withServerDir(async (_dir, env) => {
      // A first, clean start anchors the server's own key; the crash is armed for the next batch.
      const clean = await ServerProcess.start(env)
      const operator = (await api(clean.url, 'GET', '/v1/server-key')).body.address
      const cleanChain = await chainOf(clean.url)
      await waitFor(async () => (await cleanChain.keyEvents(operator)).length > 0)
      await clean.stop()
      let server = await ServerProcess.start({ ...env, DMTP_TEST_CRASH_AT: 'keys-sent' })
      const alice = new TestWallet(server.url)
      await alice.setup()
      expect(await server.exited()).toBe('SIGKILL')
      server = await ServerProcess.start(env)
      try {
        const chain = await chainOf(server.url)
        await waitFor(async () => (await api(server.url, 'GET', `/v1/anchors/${alice.bundleCid}`)).body.kind === 'key')
        await waitFor(async () => (await chain.keyEvents(alice.address)).length > 0)
        // Give a wrongly repeated send the time it would need to show up.
        await new Promise((resolve) => setTimeout(resolve, 1_500))
        const events = await chain.keyEvents(alice.address)
        expect(events.map((event) => event.args.cid)).toEqual([alice.bundleCid])
      } finally {
        await server.stop()
      }
    })
  }, 90_000)
})
