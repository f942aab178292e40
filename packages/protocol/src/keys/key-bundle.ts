/**
 * The key bundle (seed 003): `{DMTPpubKey, DMTPpriKey, Signature}` plus what the signature
 * covers. The wallet signs (EIP-191 `personal_sign`) a canonical, human-readable statement that
 * names the wallet, both public keys, a digest of the encrypted private keys, the server's domain,
 * the chain id, a nonce and the time; so neither the keys nor the encrypted blob can be swapped
 * after signing, and a bundle made for one service is not accepted by another.
 *
 * The bundle is stored as a DAG-JSON block; its CID is the key id messages refer to.
 */
import { getAddress, verifyMessage } from 'viem/utils'
import type { CryptoBackend } from '../crypto/types.js'
import { toBase64Url } from '../encoding/bytes.js'
import { encodeCanonical } from '../encoding/canonical.js'
import { SignatureInvalidError } from '../errors.js'
import { type DmtpKeys, type DmtpPublicKeys, dmtpPublicKeys } from './dmtp-keys.js'
import type { EncryptedDmtpKeys } from './wallet-key-wrap.js'

export type KeyBundle = {
  v: 1
  address: string
  DMTPpubKey: DmtpPublicKeys
  DMTPpriKey: EncryptedDmtpKeys
  domain: string
  chainId: number
  nonce: string
  issuedAt: string
  Signature: string
}

export type UnsignedKeyBundle = Omit<KeyBundle, 'Signature'>

/** The digest of the encrypted private keys named in the statement. */
export function encryptedKeysDigest(backend: Pick<CryptoBackend, 'sha256'>, encrypted: EncryptedDmtpKeys): string {
  return `sha256-${toBase64Url(backend.sha256(encodeCanonical(encrypted)))}`
}

/**
 * The exact text the wallet signs for a bundle. Deterministic from the bundle's fields.
 * @example
 * import { keyBundleStatement } from '@dmtp/protocol'
 * const text = keyBundleStatement(backend, bundle)
 */
export function keyBundleStatement(backend: Pick<CryptoBackend, 'sha256'>, bundle: UnsignedKeyBundle): string {
  return [
    `${bundle.domain} asks you to link DMTP messaging keys to your wallet.`,
    'Signing costs no gas and cannot move funds.',
    '',
    `Wallet: ${bundle.address}`,
    `X25519 key: ${bundle.DMTPpubKey.x25519}`,
    `Ed25519 key: ${bundle.DMTPpubKey.ed25519}`,
    `Encrypted private keys: ${bundle.DMTPpriKey.scheme} ${encryptedKeysDigest(backend, bundle.DMTPpriKey)}`,
    `Domain: ${bundle.domain}`,
    `Chain ID: ${bundle.chainId}`,
    `Nonce: ${bundle.nonce}`,
    `Issued At: ${bundle.issuedAt}`,
    'Version: 1',
  ].join('\n')
}

export type CreateKeyBundleParameters = {
  keys: DmtpKeys
  encrypted: EncryptedDmtpKeys
  address: string
  domain: string
  chainId: number
  signMessage: (message: string) => Promise<string>
  issuedAt?: Date | undefined
}

/**
 * Builds and signs a key bundle with the wallet.
 * @example
 * import { createKeyBundle } from '@dmtp/protocol'
 * const bundle = await createKeyBundle(backend, { keys, encrypted, address, domain, chainId: 1, signMessage })
 */
export async function createKeyBundle(
  backend: CryptoBackend,
  { keys, encrypted, address, domain, chainId, signMessage, issuedAt = new Date() }: CreateKeyBundleParameters,
): Promise<KeyBundle> {
  const unsigned: UnsignedKeyBundle = {
    v: 1,
    address: getAddress(address),
    DMTPpubKey: dmtpPublicKeys(keys),
    DMTPpriKey: encrypted,
    domain,
    chainId,
    nonce: toBase64Url(backend.randomBytes(16)),
    issuedAt: issuedAt.toISOString(),
  }
  const Signature = await signMessage(keyBundleStatement(backend, unsigned))
  return { ...unsigned, Signature }
}

/** Checks an EIP-191 signature; the default recovers an EOA, a chain client adds EIP-1271. */
export type VerifyWalletMessage = (args: {
  address: `0x${string}`
  message: string
  signature: `0x${string}`
}) => Promise<boolean>

/**
 * Verifies that the wallet named in the bundle signed exactly these keys.
 * @throws {SignatureInvalidError} when it did not.
 * @example
 * import { verifyKeyBundle } from '@dmtp/protocol'
 * await verifyKeyBundle(backend, bundle)
 */
export async function verifyKeyBundle(
  backend: Pick<CryptoBackend, 'sha256'>,
  bundle: KeyBundle,
  { verifyWalletMessage = verifyMessage as VerifyWalletMessage }: { verifyWalletMessage?: VerifyWalletMessage } = {},
): Promise<void> {
  const { Signature, ...unsigned } = bundle
  let valid = false
  try {
    valid = await verifyWalletMessage({
      address: bundle.address as `0x${string}`,
      message: keyBundleStatement(backend, unsigned),
      signature: Signature as `0x${string}`,
    })
  } catch {
    valid = false
  }
  if (!valid) {
    throw new SignatureInvalidError({ what: 'key bundle', reason: `not signed by ${bundle.address} over these keys` })
  }
}
