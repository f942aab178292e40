/**
 * Pattern β migration of a large queue (issue 4): `count` messages relayed to a wallet before it
 * set up, then made end-to-end encrypted in two timed halves.
 *
 * - Server: from the receiver's key bundle being stored to every handoff written (open each relayed
 *   envelope with the server's pair key with the sender, re-seal it to the receiver, sign, store).
 * - Client: the receiver's `migrate()`: fetch the handoffs in pages, check them (AEAD under the
 *   server's pair key, the sender's author signature), re-encrypt with the pair key shared with
 *   the sender, sign 16 at a time, upload; the server checks each batch signature, swaps the
 *   records and deletes its readable copies in the same calls.
 *
 * The server runs in its own process (`migration-server-process.ts`) on embedded defaults with
 * anvil (clients check the server's key against the registry owner), sharing the machine's cores
 * with the clients here. The receiver's bundle goes in through the key service there, not the
 * SDK's `setup()`, which would start migrating at once and blur the two halves.
 *
 * Both processes share the machine's cores, so the client half is bound by the CPU both use; the
 * result gives that CPU and, measured apart on one core, what the protocol's Ed25519 operations
 * cost by themselves: per message the receiver checks the author's signature; per batch of 16
 * the receiver signs once and the server checks once.
 */
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { createKeyBundle, generateDmtpKeys, wrapDmtpKeys } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import { generatePrivateKey } from 'viem/accounts'
import { type Child, startChild } from '../_child.js'
import { cpuMs, round } from '../_stats.js'

const SEND_WINDOW = 64
/** Migrated envelopes under one signature, as `migrate()` makes them. */
const SIGNED_TOGETHER = 16

export type MigrationResult = {
  messages: number
  /** Relaying them (send to an unregistered wallet, through the API). */
  relayMs: number
  serverReencryptMs: number
  clientReencryptMs: number
  /** CPU used during `migrate()` (every thread): the client process and the server process. */
  clientCpuMs: number
  serverCpuMs: number
  /** CPU of the Ed25519 operations alone (1 check per message, 1 signature + 1 check per 16), one core. */
  ed25519CpuMs: number
}

type ServerInfo = { url: string; domain: string; chainId: number }

export type MigrationRuns = MigrationResult & {
  /** Each run's halves, in order; the figures above are the run with the median client half. */
  serverRunsMs: number[]
  clientRunsMs: number[]
}

/**
 * `runs` migrations of `messages` each, each to a new receiver: the run with the median client
 * half, with the median server half. One run can land in a slow spell of a shared host (±25%).
 */
export async function migrationCosts({ messages, runs }: { messages: number; runs: number }): Promise<MigrationRuns> {
  const results: MigrationResult[] = []
  for (let run = 0; run < runs; run++) results.push(await migrationCost({ messages }))
  const middle = (key: 'serverReencryptMs' | 'clientReencryptMs') =>
    results.slice().sort((a, b) => a[key] - b[key])[Math.floor(runs / 2)] as MigrationResult
  return {
    ...middle('clientReencryptMs'),
    serverReencryptMs: middle('serverReencryptMs').serverReencryptMs,
    serverRunsMs: results.map((result) => result.serverReencryptMs),
    clientRunsMs: results.map((result) => result.clientReencryptMs),
  }
}

export async function migrationCost({ messages }: { messages: number }): Promise<MigrationResult> {
  const server: Child<ServerInfo> = await startChild('./migration-server-process.js')
  try {
    const { url, domain, chainId } = server.info
    const alice = createClient({ server: url, wallet: privateKeyWallet(generatePrivateKey()), crypto })
    const bobWallet = privateKeyWallet(generatePrivateKey())
    const bob = createClient({ server: url, wallet: bobWallet, crypto })
    await alice.setup()

    const relayStarted = performance.now()
    for (let sent = 0; sent < messages; sent += SEND_WINDOW) {
      const batch = Array.from({ length: Math.min(SEND_WINDOW, messages - sent) }, (_, i) =>
        alice.send(bobWallet.address, `relayed message ${sent + i}: before you set up`),
      )
      for (const result of await Promise.all(batch)) if (result.e2ee) throw new Error('a message went end to end')
    }
    const relayMs = performance.now() - relayStarted

    const keys = await generateDmtpKeys(crypto)
    const bundle = await createKeyBundle(crypto, {
      keys,
      encrypted: await wrapDmtpKeys(crypto, { keys, wallet: bobWallet }),
      address: bobWallet.address,
      domain,
      chainId,
      signMessage: (message) => bobWallet.signMessage(message),
    })
    const { serverReencryptMs } = await server.request<{ serverReencryptMs: number }>({
      address: bobWallet.address,
      bundle,
      expected: messages,
    })

    const serverCpuBefore = await server.request<{ cpuMs: number }>({ cpu: true })
    const clientCpuBefore = cpuMs()
    const clientStarted = performance.now()
    const migrated = await bob.migrate()
    const clientReencryptMs = performance.now() - clientStarted
    const clientCpuMs = cpuMs() - clientCpuBefore
    const serverCpuAfter = await server.request<{ cpuMs: number }>({ cpu: true })
    if (migrated.migrated !== messages || migrated.remaining !== 0) {
      throw new Error(`migrated ${migrated.migrated} of ${messages}, ${migrated.remaining} left`)
    }
    return {
      messages,
      relayMs: round(relayMs),
      serverReencryptMs,
      clientReencryptMs: round(clientReencryptMs),
      clientCpuMs: round(clientCpuMs, 0),
      serverCpuMs: round(serverCpuAfter.cpuMs - serverCpuBefore.cpuMs, 0),
      ed25519CpuMs: ed25519Cost(messages),
    }
  } finally {
    await server.stop()
  }
}

/**
 * The Ed25519 floor of a migration: node:crypto (what client and server use), messages of the
 * sizes signed (author statement ~250 B, batch root 55 B), timed on 16,000 messages and scaled.
 */
function ed25519Cost(messages: number): number {
  const sample = 16_000
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const author = randomBytes(250)
  const root = randomBytes(55)
  const authorSignature = sign(null, author, privateKey)
  const started = cpuMs()
  for (let i = 0; i < sample; i++) {
    if (!verify(null, author, publicKey, authorSignature)) throw new Error('Ed25519 check failed')
    if (i % SIGNED_TOGETHER !== 0) continue
    const signature = sign(null, root, privateKey)
    if (!verify(null, root, publicKey, signature)) throw new Error('Ed25519 check failed')
  }
  return round(((cpuMs() - started) * messages) / sample, 0)
}
