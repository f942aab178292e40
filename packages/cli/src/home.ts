/**
 * The CLI's state directory (`--home`, default `~/.dmtp`). It holds `sessions.json`: the SDK's
 * session tokens by server and address, so the next command reuses the session instead of asking
 * the wallet to sign in again, and what the SDK holds the server to between commands (the pinned
 * chain id and registry, the newest key bundle seen per wallet, receipts of sends). Never key
 * material; still, a token reads the wallet's inbox until it expires, so the directory is created
 * 0700 and the file 0600.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ClientStorage } from '@dmtp/sdk'

/**
 * A {@link ClientStorage} backed by `<home>/sessions.json`. Nothing is created until a value is set.
 * @example
 * import { createClient } from '@dmtp/sdk'
 * import { fileStorage } from './home.js'
 * const client = createClient({ server, wallet, storage: fileStorage('/home/me/.dmtp') })
 */
export function fileStorage(home: string): ClientStorage {
  const file = path.join(home, 'sessions.json')
  const read = (): Record<string, string> => {
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw error
    }
    try {
      const values: unknown = JSON.parse(text)
      return values && typeof values === 'object' && !Array.isArray(values) ? (values as Record<string, string>) : {}
    } catch {
      // Only a cache of tokens: a damaged file costs one sign-in, then it is rewritten.
      return {}
    }
  }
  const write = (values: Record<string, string>) => {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 })
    // Write then rename, so a concurrent command never reads a half-written file.
    const temporary = `${file}.${process.pid}.tmp`
    fs.writeFileSync(temporary, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 })
    fs.renameSync(temporary, file)
  }
  return {
    get: (key) => read()[key] ?? null,
    set: (key, value) => write({ ...read(), [key]: value }),
    remove: (key) => {
      const values = read()
      if (!(key in values)) return
      delete values[key]
      write(values)
    },
  }
}
