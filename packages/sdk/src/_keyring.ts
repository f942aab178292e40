/**
 * The client's keys: its own DMTP keys, unlocked with the wallet per key bundle (old bundles stay
 * readable after rotation), and the conversation keys derived from them, cached per key pair. The
 * current own bundle the server serves is checked like a peer's (`checkServedBundle`).
 * @internal
 */
import {
  ApiError,
  type DmtpKeys,
  deriveConversationKey,
  equalBytes,
  type KeyBundle,
  keyBundleResponseSchema,
  unwrapDmtpKeys,
} from '@dmtp/protocol'
import { bundleByCid, checkServedBundle, type VerifiedKeyBundle } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'
import { KeyBundleRejectedError, KeysNotSetUpError } from './errors.js'

/** Own keys of the current bundle; loads and unlocks them on first use (new device: wallet only). */
export async function currentKeys(client: DmtpClientBase): Promise<{ cid: string; keys: DmtpKeys; bundle: VerifiedKeyBundle }> {
  const wallet = await client.getWallet()
  if (!client.state.currentCid) {
    let response: { cid: string; bundle: KeyBundle }
    try {
      response = await client.http.request({ method: 'GET', path: `/v1/keys/${wallet.address}`, schema: keyBundleResponseSchema })
    } catch (error) {
      if (error instanceof ApiError && error.code === 'key_not_found') throw new KeysNotSetUpError({ address: wallet.address })
      throw error
    }
    // Own keys are checked like anyone's: a server serving an older bundle of ours is refused.
    await checkServedBundle(client, wallet.address, response)
    client.state.currentCid = response.cid
  }
  const cid = client.state.currentCid
  const [keys, bundle] = await Promise.all([ownKeys(client, cid), bundleByCid(client, cid, wallet.address)])
  return { cid, keys, bundle }
}

/** Own keys of any of the wallet's bundles, unlocked once with the wallet. */
export function ownKeys(client: DmtpClientBase, cid: string): Promise<DmtpKeys> {
  let found = client.state.ownKeys.get(cid)
  if (!found) {
    found = (async () => {
      const [wallet, crypto] = await Promise.all([client.getWallet(), client.getCrypto()])
      const bundle = await bundleByCid(client, cid, wallet.address)
      const keys = await unwrapDmtpKeys(crypto, { encrypted: bundle.bundle.DMTPpriKey, wallet })
      if (!equalBytes(keys.x25519.publicKey, bundle.x25519) || !equalBytes(keys.ed25519.publicKey, bundle.ed25519)) {
        throw new KeyBundleRejectedError({ address: wallet.address, reason: 'its private keys do not match its public keys' })
      }
      return keys
    })()
    found.catch(() => client.state.ownKeys.delete(cid))
    client.state.ownKeys.set(cid, found)
  }
  return found
}

/** The AES key shared by one own bundle and one peer bundle. */
export function conversationKey(
  client: DmtpClientBase,
  own: { cid: string; keys: DmtpKeys; address: string },
  peer: VerifiedKeyBundle,
): Promise<Uint8Array> {
  const id = `${own.cid}:${peer.cid}`
  let found = client.state.conversationKeys.get(id)
  if (!found) {
    found = client.getCrypto().then((crypto) =>
      deriveConversationKey(crypto, {
        secretKey: own.keys.x25519.secretKey,
        publicKey: own.keys.x25519.publicKey,
        address: own.address,
        peerPublicKey: peer.x25519,
        peerAddress: peer.address,
      }),
    )
    found.catch(() => client.state.conversationKeys.delete(id))
    client.state.conversationKeys.set(id, found)
  }
  return found
}
