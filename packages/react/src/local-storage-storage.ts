/**
 * A `ClientStorage` on `window.localStorage`, so a page reload keeps the session token (never key
 * material: the SDK stores nothing else) and does not ask the wallet to sign in again.
 */
import type { ClientStorage } from '@dmtp/sdk'

/**
 * @param prefix - prepended to every key, to keep several apps on one origin apart.
 * @returns a `ClientStorage` reading and writing `localStorage`.
 * @throws {Error} when `localStorage` does not exist (server rendering, a worker).
 * @example
 * import { createClient } from '@dmtp/sdk'
 * import { localStorageStorage } from '@dmtp/react'
 * const client = createClient({ server: 'https://dmtp.example', storage: localStorageStorage('my-app:') })
 */
export function localStorageStorage(prefix = ''): ClientStorage {
  const storage = globalThis.localStorage
  if (!storage) throw new Error('localStorage is not available here; pass `storage` explicitly')
  return {
    get: (key) => storage.getItem(prefix + key),
    set: (key, value) => storage.setItem(prefix + key, value),
    remove: (key) => storage.removeItem(prefix + key),
  }
}
