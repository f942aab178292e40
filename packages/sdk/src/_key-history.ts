/**
 * What a client remembers of each wallet's keys, and what the chain remembers (issue 16, item 3):
 *
 * - the newest key bundle this client has verified per wallet, its own included (CID and signed
 *   `issuedAt`), in `client.state` and the client's storage: an older bundle served later is a
 *   rollback, refused even with the chain down or re-pointed, and after a restart;
 * - the registry's `KeyAdded` history of a wallet (its logs, read incrementally and cached): an
 *   operator who calls `addKey` again with an old CID ("re-pointing the chain") is caught, since a
 *   wallet's bundles only ever get newer.
 * @internal
 */
import { dmtpRegistryAbi } from '@dmtp/contracts'
import type { KeyBundle } from '@dmtp/protocol'
import type { RegistryReader } from './_chain.js'
import { bundleByCid, type VerifiedKeyBundle } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'
import { KeyBundleRejectedError } from './errors.js'

export type NewestBundle = { cid: string; issuedAt: string }

const storageKey = (client: DmtpClientBase, address: string) => `dmtp:newest-key:${client.server}:${address.toLowerCase()}`

/** The newest bundle this client verified for `address`, from memory or storage. */
export async function newestBundle(client: DmtpClientBase, address: string): Promise<NewestBundle | undefined> {
  const known = client.state.newestBundles.get(address)
  if (known !== undefined) return known ?? undefined
  const stored = parseNewest(await client.storage.get(storageKey(client, address)))
  client.state.newestBundles.set(address, stored ?? null)
  return stored
}

/**
 * Refuses a bundle older than the newest one seen for its wallet (or another one of the same age).
 * @throws {KeyBundleRejectedError}
 */
export async function assertNotRolledBack(client: DmtpClientBase, bundle: VerifiedKeyBundle): Promise<void> {
  const newest = await newestBundle(client, bundle.address)
  if (!newest || newest.cid === bundle.cid) return
  const served = Date.parse(bundle.bundle.issuedAt)
  const seen = Date.parse(newest.issuedAt)
  if (served > seen) return
  throw new KeyBundleRejectedError({
    address: bundle.address,
    reason: `it is a rollback: issued ${bundle.bundle.issuedAt}, ${served === seen ? 'as old as' : 'older than'} the key bundle ${newest.cid} (issued ${newest.issuedAt}) this client already verified for this wallet`,
  })
}

/** Remembers `bundle` as its wallet's newest when it is newer than what is known. */
export async function rememberNewest(
  client: DmtpClientBase,
  bundle: { address: string; cid: string; bundle: Pick<KeyBundle, 'issuedAt'> },
): Promise<void> {
  const newest = await newestBundle(client, bundle.address)
  if (newest && Date.parse(newest.issuedAt) >= Date.parse(bundle.bundle.issuedAt)) return
  const value = { cid: bundle.cid, issuedAt: bundle.bundle.issuedAt }
  client.state.newestBundles.set(bundle.address, value)
  await client.storage.set(storageKey(client, bundle.address), JSON.stringify(value))
}

/** What the `KeyAdded` history says of the CID now on chain for a wallet. */
export type ChainHistoryVerdict = { checked: false } | { checked: true; rollback: string | undefined }

const cleared = new WeakMap<DmtpClientBase, Set<string>>()

/** True once `cid`, anchored for `address`, passed the history check on this client. */
export function historyCleared(client: DmtpClientBase, address: string, cid: string): boolean {
  return cleared.get(client)?.has(`${address}:${cid}`) ?? false
}

/**
 * Reads the `KeyAdded` history of `address` and judges `onChain` (its CID now): a rollback when it
 * was anchored before and another CID after it, or when a bundle anchored earlier was issued after
 * it. `checked: false` when the history could not be read. A clean verdict for an anchored CID is
 * remembered (`historyCleared`).
 */
export async function judgeChainHistory(
  client: DmtpClientBase,
  reader: RegistryReader,
  address: string,
  onChain: string,
): Promise<ChainHistoryVerdict> {
  let history: string[]
  try {
    history = await keyHistory(client, reader, address)
  } catch {
    return { checked: false }
  }
  const rollback = await rollbackIn(client, history, address, onChain)
  if (!rollback) perClient(cleared, client, () => new Set<string>()).add(`${address}:${onChain}`)
  return { checked: true, rollback }
}

async function rollbackIn(client: DmtpClientBase, history: string[], address: string, onChain: string) {
  const reason = (newer: string) =>
    `the chain was re-pointed to an older key bundle (${onChain}) after ${newer} had been anchored for this wallet`
  const first = history.indexOf(onChain)
  const later = first < 0 ? undefined : history.slice(first + 1).find((cid) => cid !== onChain)
  if (later) return reason(later)
  // An old CID never anchored before: compare what the wallet signed.
  const current = await bundleByCid(client, onChain, address).catch(() => undefined)
  if (!current) return undefined
  for (const cid of new Set(history)) {
    if (cid === onChain) continue
    const earlier = await bundleByCid(client, cid, address).catch(() => undefined)
    if (earlier && Date.parse(earlier.bundle.issuedAt) > Date.parse(current.bundle.issuedAt)) return reason(cid)
  }
  return undefined
}

type History = { next: bigint; cids: string[] }
type Chain = { read(address: string, from: bigint): Promise<History> }

const histories = new WeakMap<DmtpClientBase, Map<string, Promise<History>>>()
const chains = new WeakMap<DmtpClientBase, Map<string, Chain>>()

/** Every CID `addKey` put on chain for `address`, oldest first; only new blocks are read again. */
async function keyHistory(client: DmtpClientBase, reader: RegistryReader, address: string): Promise<string[]> {
  const byWallet = perClient(histories, client, () => new Map<string, Promise<History>>())
  const id = `${reader.target.rpcUrl} ${reader.target.registry} ${address}`
  const chain = chainOf(client, reader)
  const previous = byWallet.get(id)
  const next = (async () => {
    const known = previous ? await previous.catch(() => undefined) : undefined
    const read = await chain.read(address, known?.next ?? 0n)
    return { next: read.next, cids: [...(known?.cids ?? []), ...read.cids] }
  })()
  // A failed read keeps what was read before it.
  byWallet.set(
    id,
    next.catch(() => previous ?? Promise.reject(new Error('no history read yet'))),
  )
  return (await next).cids
}

function chainOf(client: DmtpClientBase, reader: RegistryReader): Chain {
  const byTarget = perClient(chains, client, () => new Map<string, Chain>())
  const id = `${reader.target.rpcUrl} ${reader.target.registry} ${reader.chainId ?? ''}`
  let chain = byTarget.get(id)
  if (!chain) {
    chain = createChain(reader)
    byTarget.set(id, chain)
  }
  return chain
}

function createChain(reader: RegistryReader): Chain {
  // @NOTE Imported on first use, as in `_chain.ts`: viem's public client is large in a browser.
  const publicClient = import('viem').then(({ createPublicClient, http }) =>
    createPublicClient({ transport: http(reader.target.rpcUrl, { retryCount: 1, timeout: 10_000 }) }),
  )
  let checked: Promise<void> | undefined
  return {
    async read(address, from) {
      const chain = await publicClient
      // The pinned chain only: logs of another chain's registry prove nothing.
      checked ??= chain.getChainId().then((id) => {
        if (reader.chainId !== undefined && id !== reader.chainId) throw new Error(`chain ${id}, not ${reader.chainId}`)
      })
      await checked.catch((error) => {
        checked = undefined
        throw error
      })
      const latest = await chain.getBlockNumber()
      if (latest < from) return { next: from, cids: [] }
      const logs = await chain.getContractEvents({
        address: reader.target.registry,
        abi: dmtpRegistryAbi,
        eventName: 'KeyAdded',
        args: { user: address as `0x${string}` },
        fromBlock: from,
        toBlock: latest,
      })
      const cids = logs.flatMap((log) => {
        const cid = (log.args as { cid?: string }).cid
        return cid ? [cid] : []
      })
      return { next: latest + 1n, cids }
    },
  }
}

function perClient<T extends object>(map: WeakMap<DmtpClientBase, T>, client: DmtpClientBase, make: () => T): T {
  let value = map.get(client)
  if (!value) {
    value = make()
    map.set(client, value)
  }
  return value
}

function parseNewest(text: string | null): NewestBundle | undefined {
  if (text === null) return undefined
  try {
    const value: unknown = JSON.parse(text)
    if (value && typeof value === 'object') {
      const { cid, issuedAt } = value as Record<string, unknown>
      if (typeof cid === 'string' && typeof issuedAt === 'string' && !Number.isNaN(Date.parse(issuedAt))) return { cid, issuedAt }
    }
  } catch {
    // A damaged entry is no memory of this wallet; the next verified bundle rewrites it.
  }
  return undefined
}
