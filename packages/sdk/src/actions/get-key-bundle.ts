/**
 * Fetches a wallet's key bundle and verifies it on the client: the server is not trusted. Checks
 * that the bundle names the wallet asked for, that the wallet's EIP-191 signature covers these
 * exact keys, that the keys are usable points, and that its CID is what the server claims.
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
import type { DmtpClientBase } from '../client.js'
import { KeyBundleRejectedError } from '../errors.js'

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

/**
 * Looks up a wallet's current keys (`dmtp whois`). Never throws for a bad bundle: it reports it.
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
    if (error instanceof ApiError && error.code === 'key_not_found') return { registered: false, address: wanted }
    throw error
  }
  try {
    // A CID already verified needs no second signature check: the bytes are the same.
    const known = client.state.bundles.get(response.cid)
    const verified = known
      ? await known.then((bundle) =>
          bundle.address === wanted ? bundle : verifyFetchedBundle(client, wanted, response.cid, response.bundle),
        )
      : await verifyFetchedBundle(client, wanted, response.cid, response.bundle)
    client.state.bundles.set(verified.cid, Promise.resolve(verified))
    const anchor = await keyAnchorStatus(client, verified)
    if (anchor.status === 'mismatched') throw new KeyBundleRejectedError({ address: wanted, reason: anchor.reason })
    client.state.currentOf.set(wanted, { cid: verified.cid, at: Date.now() })
    return {
      registered: true,
      verified: true,
      address: wanted,
      cid: verified.cid,
      bundle: verified.bundle,
      fingerprint: verified.fingerprint,
      anchor: anchor.status,
    }
  } catch (error) {
    const problem = error instanceof KeyBundleRejectedError ? error.shortMessage : String(error)
    return { registered: true, verified: false, address: wanted, cid: response.cid, bundle: response.bundle, problem }
  }
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
 * Checks a verified bundle against the key CID anchored on chain.
 * @internal
 */
export async function keyAnchorStatus(
  client: DmtpClientBase,
  bundle: VerifiedKeyBundle,
  reader?: RegistryReader,
): Promise<{ status: KeyAnchorStatus; reason: string }> {
  let onChain: string
  try {
    const registry = reader ?? (await registryReader(client))
    if (!registry) return { status: 'unchecked', reason: 'this server does not anchor keys' }
    onChain = await registry.keyOf(bundle.address)
  } catch {
    return { status: 'unchecked', reason: 'the registry could not be read from here' }
  }
  if (onChain === bundle.cid) return { status: 'anchored', reason: 'the key bundle anchored on chain' }
  if (onChain === '') return { status: 'pending', reason: 'not on chain yet' }
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
