/**
 * The server's own DMTP keys (pattern β, seed 002: "DMTP's pubKey"). They form an ordinary key
 * bundle whose wallet is the operator key, the registry's owner: the operator signs it, its
 * private keys are encrypted to the operator key like any user's to their wallet, it is stored and
 * anchored (`addKey`) like any user's, and it is served at `/v1/server-key`. Clients accept it only
 * when the registry's on-chain owner signed it, so a forged server key is refused.
 *
 * Made on first start, and again when the server's domain or chain changes (a bundle names both).
 */
import {
  type CryptoBackend,
  createKeyBundle,
  type DmtpKeys,
  decryptWithWalletKey,
  fromBase64Url,
  generateDmtpKeys,
  getEncryptionPublicKey,
  type KeyBundle,
  type KeyWrapWallet,
  unwrapDmtpKeys,
  wrapDmtpKeys,
} from '@dmtp/protocol'
import { privateKeyToAccount } from 'viem/accounts'
import type { Clock, ServiceIdentity } from '../../identity.js'
import type { Logger } from '../../logger.js'
import type { KeyService } from '../keys/key-service.js'

export type ServerKey = { address: string; cid: string; bundle: KeyBundle; keys: DmtpKeys }

export type ServerKeyServiceDeps = {
  crypto: CryptoBackend
  keyService: KeyService
  identity: ServiceIdentity
  /** The operator wallet's private key (the registry owner), which signs the server key bundle. */
  operatorKey: `0x${string}`
  clock: Clock
  logger: Logger
}

export class ServerKeyService {
  private current: ServerKey | undefined
  private readonly wallet: KeyWrapWallet

  constructor(private readonly deps: ServerKeyServiceDeps) {
    const { operatorKey } = deps
    const account = privateKeyToAccount(operatorKey)
    this.wallet = {
      address: account.address,
      signMessage: (message) => account.signMessage({ message }),
      getEncryptionPublicKey: async () => getEncryptionPublicKey(operatorKey),
      decrypt: async (encryptedData) => decryptWithWalletKey({ encryptedData, privateKey: operatorKey }),
    }
  }

  get address(): string {
    return this.wallet.address
  }

  /** Loads (or, the first time, creates and registers) the server key. Needs the identity. */
  async ensure(): Promise<ServerKey> {
    const stored = await this.deps.keyService.getCurrent(this.wallet.address)
    if (stored && stored.bundle.domain === this.deps.identity.domain && stored.bundle.chainId === this.deps.identity.chainId) {
      const keys = await unwrapDmtpKeys(this.deps.crypto, { encrypted: stored.bundle.DMTPpriKey, wallet: this.wallet })
      this.current = { address: this.wallet.address, cid: stored.cid, bundle: stored.bundle, keys }
      return this.current
    }
    const keys = await generateDmtpKeys(this.deps.crypto)
    const encrypted = await wrapDmtpKeys(this.deps.crypto, { keys, wallet: this.wallet, scheme: 'x25519-xsalsa20-poly1305' })
    const issuedAt = new Date(Math.max(this.deps.clock.now().getTime(), stored ? Date.parse(stored.bundle.issuedAt) + 1 : 0))
    const bundle = await createKeyBundle(this.deps.crypto, {
      keys,
      encrypted,
      address: this.wallet.address,
      domain: this.deps.identity.domain,
      chainId: this.deps.identity.chainId,
      signMessage: this.wallet.signMessage,
      issuedAt,
    })
    const { cid } = await this.deps.keyService.put(this.wallet.address, bundle)
    this.deps.logger.info({ address: this.wallet.address, cid, replaced: stored?.cid ?? null }, 'server key ready')
    this.current = { address: this.wallet.address, cid, bundle, keys }
    return this.current
  }

  /** The server key, once `ensure` ran. */
  get(): ServerKey {
    if (!this.current) throw new Error('The server key is not loaded yet')
    return this.current
  }

  /** The server's X25519 public key bytes. */
  publicX25519(): Uint8Array {
    return fromBase64Url(this.get().bundle.DMTPpubKey.x25519)
  }
}
