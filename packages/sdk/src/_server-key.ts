/**
 * The server's key (pattern β), verified before anything is encrypted to it: the bundle must be
 * signed by its wallet like any bundle, that wallet must be the registry's owner on chain (the
 * operator), and the bundle must be the one anchored for it (or a newer one). A server that offers
 * a key of its own making is refused: no registry to check against, no relaying.
 * @internal
 */
import { keyBundleResponseSchema } from '@dmtp/protocol'
import { registryReader } from './_chain.js'
import { bundleByCid, keyAnchorStatus, type VerifiedKeyBundle } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'
import { ServerKeyRejectedError } from './errors.js'

const TTL_MS = 60_000
const cache = new WeakMap<DmtpClientBase, { at: number; key: Promise<VerifiedKeyBundle> }>()

export function serverKey(client: DmtpClientBase): Promise<VerifiedKeyBundle> {
  const cached = cache.get(client)
  if (cached && Date.now() - cached.at < TTL_MS) return cached.key
  const key = fetchServerKey(client)
  key.catch(() => cache.delete(client))
  cache.set(client, { at: Date.now(), key })
  return key
}

/**
 * The key a relayed message was encrypted to, when it is this server's: the verified server key,
 * or an earlier bundle of the same operator wallet (the server makes a new one when its domain or
 * chain changes).
 * @throws {ServerKeyRejectedError} for any other key.
 */
export async function operatorBundle(client: DmtpClientBase, cid: string): Promise<VerifiedKeyBundle> {
  const current = await serverKey(client)
  if (current.cid === cid) return current
  return bundleByCid(client, cid, current.address).catch((cause) => {
    throw new ServerKeyRejectedError({ reason: `a relayed message names key ${cid}, not one of this server's`, cause })
  })
}

export function forgetServerKey(client: DmtpClientBase): void {
  cache.delete(client)
}

async function fetchServerKey(client: DmtpClientBase): Promise<VerifiedKeyBundle> {
  const response = await client.http.request({ method: 'GET', path: '/v1/server-key', schema: keyBundleResponseSchema })
  let bundle: VerifiedKeyBundle
  try {
    bundle = await bundleByCid(client, response.cid, response.address)
  } catch (cause) {
    throw new ServerKeyRejectedError({ reason: 'its bundle does not verify', cause })
  }
  const reader = await registryReader(client)
  if (!reader) throw new ServerKeyRejectedError({ reason: 'this server anchors on no chain, so its operator cannot be checked' })
  let owner: string
  try {
    owner = await reader.owner()
  } catch (cause) {
    throw new ServerKeyRejectedError({ reason: 'the registry could not be read to check its operator', cause })
  }
  if (owner.toLowerCase() !== bundle.address.toLowerCase()) {
    throw new ServerKeyRejectedError({ reason: `it is signed by ${bundle.address}, not by the registry's owner ${owner}` })
  }
  const anchor = await keyAnchorStatus(client, bundle, reader)
  if (anchor.status === 'mismatched') throw new ServerKeyRejectedError({ reason: anchor.reason })
  return bundle
}
