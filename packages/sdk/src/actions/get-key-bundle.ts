/**
 * Fetches a wallet's key bundle and verifies it on the client: the server is not trusted. Checks
 * that the bundle names the wallet asked for, that the wallet's EIP-191 signature covers these
 * exact keys, that the keys are usable points, that its CID is what the server claims, that it was
 * made for this server (the configured URL's host, the server's chain id), that it is not older
 * than one this client verified before (`_key-history.ts`), and how it stands on chain, the
 * registry's `KeyAdded` history included. A "no keys" answer is checked on chain too: a wallet
 * whose keys the server hides is never relayed to (pattern β must never be a downgrade).
 */
import {
  ApiError,
  assertValidPublicKeys,
  fromBase64Url,
  type KeyBundle,
  keyBundleResponseSchema,
  keyBundleSchema,
  toBlock,
  verifyKeyBundle,
} from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { fetchBlock } from '../_blocks.js'
import { type RegistryReader, registryReader } from '../_chain.js'
import { assertNotRolledBack, historyCleared, judgeChainHistory, newestBundle, rememberNewest } from '../_key-history.js'
import { serverInfo } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { KeyBundleRejectedError, KeyWithheldError } from '../errors.js'

export type VerifiedKeyBundle = {
  address: string
  cid: string
  bundle: KeyBundle
  x25519: Uint8Array
  ed25519: Uint8Array
  /** Short hex digest of both public keys, for people to compare out of band. */
  fingerprint: string
}

export type GetKeyBundleParameters = { address: string }
/**
 * How a bundle stands against the registry: it is the CID on chain (`anchored`), or a newer one the
 * server has not anchored yet (`pending`), or neither (`mismatched`: refused), or the chain could
 * not be read (`unchecked`: no registry, or it is unreachable from here).
 */
export type KeyAnchorStatus = 'anchored' | 'pending' | 'mismatched' | 'unchecked'

export type GetKeyBundleReturnType =
  | { registered: false; address: string }
  | {
      registered: true
      verified: true
      address: string
      cid: string
      bundle: KeyBundle
      fingerprint: string
      anchor: Exclude<KeyAnchorStatus, 'mismatched'>
    }
  | { registered: true; verified: false; address: string; cid: string; bundle: KeyBundle; problem: string }

const CURRENT_TTL_MS = 30_000

export type GetKeyBundleErrorType = KeyWithheldError | ApiError | Error

/**
 * Looks up a wallet's current keys (`dmtp whois`). Never throws for a bad bundle: it reports it.
 * @throws {KeyWithheldError} when the server says the wallet has no keys but the chain (or this
 * client, earlier) has a key bundle for it.
 * @example
 * import { getKeyBundle } from '@dmtp/sdk'
 * const result = await getKeyBundle(client, { address: '0xB0b…' })
 * if (result.registered && result.verified) console.log(result.fingerprint)
 */
export async function getKeyBundle(client: DmtpClientBase, { address }: GetKeyBundleParameters): Promise<GetKeyBundleReturnType> {
  const wanted = getAddress(address)
  let response: { cid: string; bundle: KeyBundle }
  try {
    response = await client.http.request({ method: 'GET', path: `/v1/keys/${wanted}`, schema: keyBundleResponseSchema })
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'key_not_found')) throw error
    await checkNoKeys(client, wanted)
    return { registered: false, address: wanted }
  }
  try {
    const { bundle, anchor } = await checkServedBundle(client, wanted, response)
    return {
      registered: true,
      verified: true,
      address: wanted,
      cid: bundle.cid,
      bundle: bundle.bundle,
      fingerprint: bundle.fingerprint,
      anchor,
    }
  } catch (error) {
    const problem = error instanceof KeyBundleRejectedError ? error.shortMessage : String(error)
    return { registered: true, verified: false, address: wanted, cid: response.cid, bundle: response.bundle, problem }
  }
}

/**
 * Why the key of `address`, or the server's "no keys" answer for it, could not be checked against
 * the chain (no registry, or it could not be read), as of its last check; undefined when it was.
 * The send path shows it with every message to that wallet: a key that could not be checked is a
 * warning, not silence.
 * @internal
 */
export function keyCheckWarning(client: DmtpClientBase, address: string): string | undefined {
  return client.state.keyWarnings.get(getAddress(address))
}

/**
 * Verifies a bundle the server served as the current one of `wanted`: signature, CID, keys, made
 * for this server, not a rollback, not mismatched on chain. Remembers it as the newest.
 * @throws {KeyBundleRejectedError}
 * @internal
 */
export async function checkServedBundle(
  client: DmtpClientBase,
  wanted: string,
  response: { cid: string; bundle: KeyBundle },
): Promise<{ bundle: VerifiedKeyBundle; anchor: Exclude<KeyAnchorStatus, 'mismatched'> }> {
  // A CID already verified needs no second signature check: the bytes are the same.
  const known = await client.state.bundles.get(response.cid)?.catch(() => undefined)
  const verified = known?.address === wanted ? known : await verifyFetchedBundle(client, wanted, response.cid, response.bundle)
  client.state.bundles.set(verified.cid, Promise.resolve(verified))
  await assertForThisServer(client, verified)
  await assertNotRolledBack(client, verified)
  const anchor = await keyAnchorStatus(client, verified)
  if (anchor.status === 'mismatched') throw new KeyBundleRejectedError({ address: wanted, reason: anchor.reason })
  if (anchor.status === 'unchecked') {
    client.state.keyWarnings.set(
      wanted,
      `The key of ${wanted} could not be checked against the chain (${anchor.reason}): a rolled-back or swapped key would not be caught.`,
    )
  } else client.state.keyWarnings.delete(wanted)
  await rememberNewest(client, verified)
  client.state.currentOf.set(wanted, { cid: verified.cid, at: Date.now() })
  return { bundle: verified, anchor: anchor.status }
}

/**
 * The verified current bundle of `address`, cached briefly.
 * @throws {KeyBundleRejectedError} when the served bundle fails verification.
 * @internal
 */
export async function requireCurrentBundle(client: DmtpClientBase, address: string): Promise<VerifiedKeyBundle | undefined> {
  const cached = client.state.currentOf.get(address)
  if (cached && Date.now() - cached.at < CURRENT_TTL_MS) {
    const bundle = client.state.bundles.get(cached.cid)
    if (bundle) return bundle
  }
  const result = await getKeyBundle(client, { address })
  if (!result.registered) return undefined
  if (!result.verified) throw new KeyBundleRejectedError({ address, reason: result.problem })
  return client.state.bundles.get(result.cid) as Promise<VerifiedKeyBundle>
}

/**
 * A verified bundle by CID (messages name the key bundle they were made with).
 * @internal
 */
export function bundleByCid(client: DmtpClientBase, cid: string, address?: string): Promise<VerifiedKeyBundle> {
  let found = client.state.bundles.get(cid)
  if (!found) {
    // By CID from the block gateway: self-verifying, and served even by a server that lost its
    // database (recovery), since key bundles are blocks.
    found = fetchBlock(client, cid).then((value) => {
      const parsed = keyBundleSchema.safeParse(value)
      if (!parsed.success) throw new KeyBundleRejectedError({ address: address ?? cid, reason: `no key bundle with CID ${cid}` })
      return verifyFetchedBundle(client, parsed.data.address, cid, parsed.data)
    })
    found.catch(() => client.state.bundles.delete(cid))
    client.state.bundles.set(cid, found)
  }
  return found.then((bundle) => {
    if (address !== undefined && bundle.address !== address)
      throw new KeyBundleRejectedError({ address, reason: `key ${cid} belongs to ${bundle.address}` })
    return bundle
  })
}

/**
 * Checks a verified bundle against the key CID anchored on chain, and that CID against the
 * registry's `KeyAdded` history (when the bundle is first seen anchored here, or not anchored).
 * @internal
 */
export async function keyAnchorStatus(
  client: DmtpClientBase,
  bundle: VerifiedKeyBundle,
  reader?: RegistryReader,
): Promise<{ status: KeyAnchorStatus; reason: string }> {
  let registry: RegistryReader | undefined
  let onChain: string
  try {
    registry = reader ?? (await registryReader(client))
    if (!registry) return { status: 'unchecked', reason: 'this server does not anchor keys' }
    onChain = await registry.keyOf(bundle.address)
  } catch {
    return { status: 'unchecked', reason: 'the registry could not be read from here' }
  }
  if (onChain === '') return { status: 'pending', reason: 'not on chain yet' }
  const plain = await compareWithChain(client, bundle, onChain)
  if (plain.status === 'mismatched') return plain
  if (plain.status === 'anchored' && historyCleared(client, bundle.address, onChain)) return plain
  const history = await judgeChainHistory(client, registry, bundle.address, onChain)
  if (history.checked && history.rollback) return { status: 'mismatched', reason: history.rollback }
  return plain
}

async function compareWithChain(
  client: DmtpClientBase,
  bundle: VerifiedKeyBundle,
  onChain: string,
): Promise<{ status: KeyAnchorStatus; reason: string }> {
  if (onChain === bundle.cid) return { status: 'anchored', reason: 'the key bundle anchored on chain' }
  const anchored = await bundleByCid(client, onChain, bundle.address).catch(() => undefined)
  if (!anchored)
    return { status: 'mismatched', reason: `the key bundle anchored on chain (${onChain}) cannot be fetched or verified` }
  // Only the wallet can make bundles, so a newer one is a rotation the server has not anchored yet;
  // an older or same-age one served instead of the anchored bundle is a rollback.
  if (Date.parse(bundle.bundle.issuedAt) > Date.parse(anchored.bundle.issuedAt)) {
    return { status: 'pending', reason: 'a key rotation not anchored yet' }
  }
  return { status: 'mismatched', reason: `it is not the key bundle anchored on chain (${onChain})` }
}

/**
 * The server says `address` has no keys: before anything is relayed, ask what this client saw
 * before and what the chain holds. When the chain cannot be read, the answer stands with a
 * warning (`keyCheckWarning`).
 * @throws {KeyWithheldError} when either shows a key bundle for it.
 */
async function checkNoKeys(client: DmtpClientBase, address: string): Promise<void> {
  const seen = await newestBundle(client, address)
  if (seen) throw new KeyWithheldError({ address, cid: seen.cid, source: 'memory', verified: true })
  let onChain: string
  try {
    const registry = await registryReader(client)
    if (!registry) throw new Error('this server does not anchor keys')
    onChain = await registry.keyOf(address)
  } catch {
    client.state.keyWarnings.set(
      address,
      `The server says ${address} has not set up DMTP, and the chain could not be read to confirm it: if the server is hiding their keys, it can read this message.`,
    )
    return
  }
  client.state.keyWarnings.delete(address)
  if (onChain === '') return
  const withheld = await bundleByCid(client, onChain, address)
    .then(async (bundle) => {
      await assertForThisServer(client, bundle)
      return { verified: true, cause: undefined }
    })
    .catch((cause: unknown) => ({ verified: false, cause }))
  throw new KeyWithheldError({ address, cid: onChain, source: 'chain', ...withheld })
}

/**
 * A bundle names the server it was made for: the host of the URL this client was configured with
 * (never what the server says of itself, as in sign-in) and the server's chain id.
 * @throws {KeyBundleRejectedError}
 */
async function assertForThisServer(client: DmtpClientBase, bundle: VerifiedKeyBundle): Promise<void> {
  const host = new URL(client.server).host
  if (bundle.bundle.domain !== host) {
    throw new KeyBundleRejectedError({
      address: bundle.address,
      reason: `it was made for another server (${bundle.bundle.domain}), not ${host}`,
    })
  }
  const { chainId } = await serverInfo(client)
  if (bundle.bundle.chainId !== chainId) {
    throw new KeyBundleRejectedError({
      address: bundle.address,
      reason: `it was made for chain ${bundle.bundle.chainId}, not this server's chain ${chainId}`,
    })
  }
}

/** @internal */
export function forgetCurrentBundle(client: DmtpClientBase, address: string): void {
  client.state.currentOf.delete(address)
}

async function verifyFetchedBundle(
  client: DmtpClientBase,
  address: string,
  cid: string,
  bundle: KeyBundle,
): Promise<VerifiedKeyBundle> {
  const crypto = await client.getCrypto()
  if (bundle.address !== address) {
    throw new KeyBundleRejectedError({ address, reason: `it names another wallet (${bundle.address})` })
  }
  const computed = toBlock(bundle, crypto.sha256).cid
  if (computed !== cid) throw new KeyBundleRejectedError({ address, reason: `its CID is ${computed}, not ${cid}` })
  try {
    assertValidPublicKeys(bundle.DMTPpubKey)
  } catch (cause) {
    throw new KeyBundleRejectedError({ address, reason: 'its public keys are not usable', cause })
  }
  try {
    await verifyKeyBundle(crypto, bundle)
  } catch (cause) {
    throw new KeyBundleRejectedError({ address, reason: 'the wallet did not sign these keys', cause })
  }
  const x25519 = fromBase64Url(bundle.DMTPpubKey.x25519)
  const ed25519 = fromBase64Url(bundle.DMTPpubKey.ed25519)
  return { address, cid, bundle, x25519, ed25519, fingerprint: keyFingerprint(crypto.sha256, x25519, ed25519) }
}

function keyFingerprint(sha256: (data: Uint8Array) => Uint8Array, x25519: Uint8Array, ed25519: Uint8Array): string {
  const joined = new Uint8Array(64)
  joined.set(x25519, 0)
  joined.set(ed25519, 32)
  const digest = sha256(joined).subarray(0, 10)
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
  return hex.match(/.{4}/g)?.join(' ') ?? hex
}
