/**
 * Where a client keeps what must outlive a run: memory by default, `localStorage` in a browser, a
 * file in the CLI's home. It holds the session token and what the client holds the server to —
 * the pinned chain, the newest key bundle seen per wallet, the signed receipts of sends not yet
 * confirmed by history (bounded) — public values only, never key material.
 */
export type ClientStorage = {
  get(key: string): string | null | Promise<string | null>
  set(key: string, value: string): void | Promise<void>
  remove(key: string): void | Promise<void>
  /**
   * True when values last no longer than the client (the default storage, made by the client):
   * what the client holds in memory anyway is not copied in.
   */
  volatile?: boolean | undefined
}

export function memoryStorage(): ClientStorage {
  const values = new Map<string, string>()
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  }
}
