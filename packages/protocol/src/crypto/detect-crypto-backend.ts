/**
 * Picks the fastest backend this environment supports: WebCrypto when it has X25519 and Ed25519
 * (Node 20+, current Chromium, Firefox, Safari), noble otherwise. On Node, the server and CLI pass
 * `nodeCryptoBackend` from `@dmtp/protocol/node` instead, which is faster still.
 */
import { nobleBackend } from './noble-backend.js'
import type { CryptoBackend } from './types.js'
import { createWebCryptoBackend } from './web-backend.js'

let detected: Promise<CryptoBackend> | undefined

/**
 * @returns the WebCrypto backend when it passes a live X25519 + Ed25519 check, else noble.
 * @example
 * import { detectCryptoBackend } from '@dmtp/protocol'
 * const backend = await detectCryptoBackend()
 */
export function detectCryptoBackend(): Promise<CryptoBackend> {
  detected ??= probeWebCrypto()
  return detected
}

async function probeWebCrypto(): Promise<CryptoBackend> {
  try {
    const web = createWebCryptoBackend()
    const secret = nobleBackend.randomBytes(32)
    const [edPublic, xPublic] = await Promise.all([web.ed25519PublicKey(secret), web.x25519PublicKey(secret)])
    const message = new Uint8Array([1, 2, 3])
    const signature = await web.ed25519Sign(secret, message)
    const [edOk, xOk] = await Promise.all([
      nobleBackend.ed25519Verify(edPublic, message, signature),
      nobleBackend.x25519PublicKey(secret).then((expected) => expected.every((b, i) => b === xPublic[i])),
    ])
    return edOk && xOk ? web : nobleBackend
  } catch {
    return nobleBackend
  }
}
