/**
 * A small bounded cache for imported key objects. Importing a key costs far more than using it
 * (node:crypto DER import ~90 µs against ~5 µs to use), so each backend keeps what it imported.
 * When full it is simply cleared: hot keys come back on the next call.
 */
import { toBase64Url } from '../encoding/bytes.js'

export class KeyCache<T> {
  private readonly entries = new Map<string, T>()
  constructor(private readonly limit = 4096) {}

  get(tag: string, key: Uint8Array, create: () => T): T {
    const id = `${tag}:${toBase64Url(key)}`
    const hit = this.entries.get(id)
    if (hit !== undefined) return hit
    if (this.entries.size >= this.limit) this.entries.clear()
    const value = create()
    this.entries.set(id, value)
    return value
  }
}
