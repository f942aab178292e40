/**
 * A wallet's DMTP keys (seed 003, "Generation of DMTP key pairs"): an X25519 pair for key
 * agreement and an Ed25519 pair for signing envelopes. They are generated on the client from a
 * CSPRNG and are unrelated to the wallet key, so losing them never risks funds.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import type { CryptoBackend } from '../crypto/types.js'
import { bytesToUtf8, fromBase64Url, toBase64Url } from '../encoding/bytes.js'
import { encodeCanonical } from '../encoding/canonical.js'
import { InvalidKeyError } from '../errors.js'

export type DmtpKeys = {
  x25519: { secretKey: Uint8Array; publicKey: Uint8Array }
  ed25519: { secretKey: Uint8Array; publicKey: Uint8Array }
}

/** The public half as it appears in a key bundle (`DMTPpubKey`): base64url, 32 bytes each. */
export type DmtpPublicKeys = { x25519: string; ed25519: string }

/**
 * Generates fresh DMTP keys.
 * @example
 * import { generateDmtpKeys } from '@dmtp/protocol'
 * const keys = await generateDmtpKeys(backend)
 */
export async function generateDmtpKeys(backend: CryptoBackend): Promise<DmtpKeys> {
  return dmtpKeysFromSecrets(backend, { x25519: backend.randomBytes(32), ed25519: backend.randomBytes(32) })
}

export async function dmtpKeysFromSecrets(
  backend: CryptoBackend,
  secrets: { x25519: Uint8Array; ed25519: Uint8Array },
): Promise<DmtpKeys> {
  const [x25519PublicKey, ed25519PublicKey] = await Promise.all([
    backend.x25519PublicKey(secrets.x25519),
    backend.ed25519PublicKey(secrets.ed25519),
  ])
  return {
    x25519: { secretKey: secrets.x25519, publicKey: x25519PublicKey },
    ed25519: { secretKey: secrets.ed25519, publicKey: ed25519PublicKey },
  }
}

export function dmtpPublicKeys(keys: DmtpKeys): DmtpPublicKeys {
  return { x25519: toBase64Url(keys.x25519.publicKey), ed25519: toBase64Url(keys.ed25519.publicKey) }
}

/** The plaintext that gets encrypted to the wallet: canonical JSON of both secret keys. */
export function encodeSecretKeys(keys: DmtpKeys): string {
  return bytesToUtf8(
    encodeCanonical({ x25519: toBase64Url(keys.x25519.secretKey), ed25519: toBase64Url(keys.ed25519.secretKey) }),
  )
}

/** @throws {TypeError} when the text is not the encoding of two 32-byte secret keys. */
export function decodeSecretKeys(text: string): { x25519: Uint8Array; ed25519: Uint8Array } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new TypeError('"DMTP secret keys" expected JSON, got something else')
  }
  const value = parsed as { x25519?: unknown; ed25519?: unknown }
  if (typeof value?.x25519 !== 'string' || typeof value.ed25519 !== 'string') {
    throw new TypeError('"DMTP secret keys" expected {x25519, ed25519}, got another shape')
  }
  const x25519 = fromBase64Url(value.x25519)
  const ed25519 = fromBase64Url(value.ed25519)
  if (x25519.length !== 32 || ed25519.length !== 32) throw new RangeError('"DMTP secret keys" expected 32 bytes each')
  return { x25519, ed25519 }
}

// A clamped X25519 scalar is a multiple of the cofactor 8, so X25519(k, u) is all zero exactly
// when u is a low-order point, for any k. A fixed k keeps the check deterministic.
const LOW_ORDER_PROBE = new Uint8Array(32).fill(0x42)

/**
 * Checks that published keys are usable: a 32-byte X25519 key that is not a low-order point, and
 * an Ed25519 key that decodes to a curve point of large order.
 * @throws {InvalidKeyError} naming the bad key.
 */
export function assertValidPublicKeys(keys: DmtpPublicKeys): void {
  const x = fromBase64Url(keys.x25519)
  const ed = fromBase64Url(keys.ed25519)
  if (x.length !== 32) throw new InvalidKeyError({ reason: 'X25519 key must be 32 bytes' })
  if (ed.length !== 32) throw new InvalidKeyError({ reason: 'Ed25519 key must be 32 bytes' })
  let shared: Uint8Array | undefined
  try {
    shared = x25519.getSharedSecret(LOW_ORDER_PROBE, x)
  } catch {
    shared = undefined
  }
  if (!shared || shared.every((byte) => byte === 0)) {
    throw new InvalidKeyError({ reason: 'X25519 key is a low-order point' })
  }
  let smallOrder = true
  try {
    smallOrder = ed25519.Point.fromBytes(ed).isSmallOrder()
  } catch {
    throw new InvalidKeyError({ reason: 'Ed25519 key is not a point on the curve' })
  }
  if (smallOrder) throw new InvalidKeyError({ reason: 'Ed25519 key is a small-order point' })
}
