/**
 * Where a client keeps its session token between runs: memory by default, `localStorage` in a
 * browser, a file in the CLI's home. Only the session token is stored, never key material.
 */
export type ClientStorage = {
  get(key: string): string | null | Promise<string | null>
  set(key: string, value: string): void | Promise<void>
  remove(key: string): void | Promise<void>
}

export function memoryStorage(): ClientStorage {
  const values = new Map<string, string>()
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  }
}
