/**
 * dApp API keys: created by the operator (`dmtp apikey`, owner null) or by a signed-in wallet for
 * its own dApp. A key is `dmtp_` + base64url of 32 random bytes; only its SHA-256 is stored, next
 * to a short public id. Requests that carry a key are checked here (`check`) and counted against
 * the key's per-minute budget (`take`).
 *
 * Lookups are cached for `CACHE_MS`: revoking through this instance (the API) clears its cache at
 * once; a revocation made elsewhere (the CLI, another instance) takes effect within `CACHE_MS`.
 * Rate windows are in memory, per instance: a limit for abuse, not for billing.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { ApiKey, CreatedApiKey } from '@dmtp/protocol'
import type { ServerConfig } from '../../config/config.js'
import type { Database } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { Clock } from '../../identity.js'
import { ApiKeyReader } from './reader.js'
import { ApiKeyTransactor } from './transactor.js'

export const API_KEY_PREFIX = 'dmtp_'
const KEY_BYTES = 32
const ID_BYTES = 9
const CACHE_MS = 5_000
const CACHE_MAX = 10_000
const WINDOW_MS = 60_000
/** `dmtp_` + base64url of 32 bytes; anything else is refused without a database lookup. */
const KEY_PATTERN = /^dmtp_[A-Za-z0-9_-]{43}$/

/** A key that passed `check`: what the rate limit needs. */
export type CheckedApiKey = { id: string; rateLimitPerMinute: number }

export type CreateApiKeyParameters = {
  name: string
  /** The wallet creating a key for its dApp, or null for the operator. */
  owner: string | null
  rateLimitPerMinute?: number | undefined
}

type CacheEntry = { key: CheckedApiKey | 'unknown' | 'revoked'; until: number }

export type ApiKeyServiceDeps = {
  database: Database
  config: ServerConfig['apiKeys']
  clock: Clock
}

export class ApiKeyService {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly windows = new Map<string, { start: number; count: number }>()

  constructor(private readonly deps: ApiKeyServiceDeps) {}

  /**
   * Creates a key; the answer is the only place the key itself ever appears.
   * @throws {HttpError} `too_many_api_keys` when a wallet already holds `maxPerWallet` active keys;
   * `invalid_request` when a wallet asks for more than the server's default rate.
   */
  async create({ name, owner, rateLimitPerMinute }: CreateApiKeyParameters): Promise<CreatedApiKey> {
    const rate = rateLimitPerMinute ?? this.deps.config.defaultRateLimitPerMinute
    if (owner !== null && rate > this.deps.config.defaultRateLimitPerMinute) {
      throw new HttpError({
        code: 'invalid_request',
        message: `rateLimitPerMinute may be at most ${this.deps.config.defaultRateLimitPerMinute} on this server.`,
      })
    }
    const key = `${API_KEY_PREFIX}${randomBytes(KEY_BYTES).toString('base64url')}`
    const id = randomBytes(ID_BYTES).toString('base64url')
    const createdAt = this.deps.clock.now().toISOString()
    await this.deps.database.transaction(async (tx) => {
      const t = new ApiKeyTransactor(tx.db)
      if (owner !== null) {
        // The owner's row serializes concurrent creations (PostgreSQL; SQLite transactions already do).
        await t.lockOwner(owner, this.deps.database)
        if ((await t.countActive(owner)) >= this.deps.config.maxPerWallet) {
          throw new HttpError({
            code: 'too_many_api_keys',
            message: `A wallet may hold at most ${this.deps.config.maxPerWallet} active API keys; revoke one first.`,
          })
        }
      }
      await t.insert({
        id,
        key_hash: hashKey(key),
        name,
        owner,
        rate_limit_per_minute: rate,
        created_at: createdAt,
        revoked_at: null,
      })
    })
    return { id, name, key, rateLimitPerMinute: rate, createdAt }
  }

  /** Keys of one wallet, of the operator (`null`), or all of them (`undefined`), without secrets. */
  async list(owner: string | null | undefined): Promise<(ApiKey & { owner: string | null })[]> {
    const rows = await new ApiKeyReader(this.deps.database.db).list(owner)
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      owner: row.owner,
      rateLimitPerMinute: row.rate_limit_per_minute,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    }))
  }

  /**
   * Revokes a key: of `owner` only when given (a wallet), any key when not (the operator).
   * Revoking a revoked key changes nothing.
   * @returns when the key was revoked.
   * @throws {HttpError} `api_key_not_found`, also for another wallet's key.
   */
  async revoke(id: string, owner?: string | null): Promise<{ id: string; revokedAt: string }> {
    const row = await new ApiKeyReader(this.deps.database.db).find(id)
    if (!row || (owner !== undefined && row.owner !== owner)) {
      throw new HttpError({ code: 'api_key_not_found', message: `No API key ${JSON.stringify(id)}.` })
    }
    let revokedAt = row.revoked_at
    if (!revokedAt) {
      revokedAt = this.deps.clock.now().toISOString()
      await new ApiKeyTransactor(this.deps.database.db).revoke(id, revokedAt)
    }
    for (const [hash, entry] of this.cache) {
      if (typeof entry.key === 'object' && entry.key.id === id) this.cache.delete(hash)
    }
    this.windows.delete(id)
    return { id, revokedAt }
  }

  /**
   * Checks a key a request carries.
   * @throws {HttpError} `invalid_api_key` (unknown or malformed) or `api_key_revoked`.
   */
  async check(key: string): Promise<CheckedApiKey> {
    const now = this.deps.clock.now().getTime()
    let entry: CacheEntry | undefined
    if (!KEY_PATTERN.test(key)) entry = { key: 'unknown', until: 0 }
    else {
      const hash = hashKey(key)
      entry = this.cache.get(hash)
      if (!entry || entry.until <= now) {
        const row = await new ApiKeyReader(this.deps.database.db).findByHash(hash)
        entry = {
          key: !row ? 'unknown' : row.revoked_at ? 'revoked' : { id: row.id, rateLimitPerMinute: row.rate_limit_per_minute },
          until: now + CACHE_MS,
        }
        if (this.cache.size >= CACHE_MAX) this.cache.clear()
        this.cache.set(hash, entry)
      }
    }
    if (entry.key === 'unknown') throw new HttpError({ code: 'invalid_api_key', message: 'The API key is not valid.' })
    if (entry.key === 'revoked') throw new HttpError({ code: 'api_key_revoked', message: 'The API key was revoked.' })
    return entry.key
  }

  /**
   * Counts one request against the key's budget (fixed one-minute windows).
   * @returns 0 when allowed, else the seconds until the next window opens.
   */
  take(key: CheckedApiKey): number {
    const now = this.deps.clock.now().getTime()
    let window = this.windows.get(key.id)
    if (!window || now - window.start >= WINDOW_MS) {
      if (this.windows.size >= CACHE_MAX) this.windows.clear()
      window = { start: now, count: 0 }
      this.windows.set(key.id, window)
    }
    if (window.count >= key.rateLimitPerMinute) return Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000))
    window.count += 1
    return 0
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}
