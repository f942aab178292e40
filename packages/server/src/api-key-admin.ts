/**
 * Operator access to API keys without running a server: opens the server's database (the same
 * config as `dmtp serve`: `--data DIR` or `DMTP_DATABASE_URL`), migrates it if needed, and hands
 * out the same service the server uses. The CLI's `dmtp apikey` is built on this.
 */
import type { ServerConfig } from './config/config.js'
import { Database } from './db/database.js'
import { type Clock, systemClock } from './identity.js'
import { ApiKeyService } from './services/api-keys/api-key-service.js'

export type ApiKeyAdmin = AsyncDisposable & {
  readonly apiKeys: ApiKeyService
  close(): Promise<void>
}

/**
 * @example
 * import { envToConfig, openApiKeyAdmin, readEnv } from '@dmtp/server'
 * await using admin = await openApiKeyAdmin(envToConfig(readEnv()))
 * const { id, key } = await admin.apiKeys.create({ name: 'my dApp', owner: null })
 */
export async function openApiKeyAdmin(config: ServerConfig, clock: Clock = systemClock): Promise<ApiKeyAdmin> {
  const database =
    config.db.provider === 'sqlite'
      ? Database.sqlite(config.db.path)
      : await Database.postgres({ url: config.db.url, schema: config.db.schema, poolSize: 1 })
  try {
    await database.migrateToLatest()
  } catch (error) {
    await database.destroy()
    throw error
  }
  const close = () => database.destroy()
  return { apiKeys: new ApiKeyService({ database, config: config.apiKeys, clock }), close, [Symbol.asyncDispose]: close }
}
