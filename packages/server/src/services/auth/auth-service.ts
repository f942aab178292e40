/**
 * Sign-in (EIP-4361) and session tokens. Every field of a message is checked against this
 * server's own configuration (domain, URI origin, chain, times with a small clock skew), so a
 * message signed for another server cannot be relayed here. A nonce is single-use and expires;
 * consuming it is one conditional UPDATE, so a replayed message loses the race even across
 * instances. Tokens are 256 random bits; only their SHA-256 is stored. Lookups are cached briefly;
 * revocation clears the local cache at once (other instances within `CACHE_MS`).
 */
import { createHash, randomBytes } from 'node:crypto'
import { type ErrorCode, type SignInFailure, type SignInFields, SignInVerificationError, verifySignIn } from '@dmtp/protocol'
import type { ServerConfig } from '../../config/config.js'
import type { Database } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { Clock, ServiceIdentity } from '../../identity.js'
import { AuthReader } from './reader.js'
import { AuthTransactor } from './transactor.js'

export type Session = { address: string; expiresAt: number }

const CACHE_MS = 10_000
const TOKEN_PREFIX = 'dmtp_'

const failureCodes: Record<SignInFailure, ErrorCode> = {
  malformed: 'invalid_siwe_message',
  domain_mismatch: 'siwe_domain_mismatch',
  uri_mismatch: 'siwe_uri_mismatch',
  chain_mismatch: 'siwe_chain_mismatch',
  nonce_mismatch: 'nonce_invalid',
  expired: 'siwe_expired',
  not_yet_valid: 'siwe_not_yet_valid',
  issued_in_future: 'siwe_issued_in_future',
  issued_too_long_ago: 'siwe_issued_too_long_ago',
  invalid_signature: 'invalid_signature',
}

export type AuthServiceDeps = {
  database: Database
  config: ServerConfig['auth']
  identity: ServiceIdentity
  clock: Clock
}

export class AuthService {
  private readonly cache = new Map<string, { session: Session; until: number }>()

  constructor(private readonly deps: AuthServiceDeps) {}

  async createNonce(): Promise<{ nonce: string; expiresAt: string }> {
    const now = this.deps.clock.now()
    const nonce = randomBytes(16).toString('hex')
    const expiresAt = new Date(now.getTime() + this.deps.config.nonceTtlSeconds * 1000).toISOString()
    await new AuthTransactor(this.deps.database.db).insertNonce({
      nonce,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      used_at: null,
    })
    return { nonce, expiresAt }
  }

  async signIn({ message, signature }: { message: string; signature: string }) {
    const now = this.deps.clock.now()
    const { identity, config } = this.deps
    let fields: SignInFields
    try {
      fields = await verifySignIn({
        message,
        signature,
        domain: identity.domain,
        origin: identity.url,
        chainId: identity.chainId,
        time: now,
        clockSkewMs: config.clockSkewSeconds * 1000,
        // The message is signed after its nonce was issued, so it is at most a nonce lifetime old (plus skew).
        maxAgeMs: (config.nonceTtlSeconds + config.clockSkewSeconds) * 1000,
      })
    } catch (error) {
      if (error instanceof SignInVerificationError) {
        throw new HttpError({ code: failureCodes[error.failure], message: refusal(error, identity) })
      }
      throw error
    }
    if (!(await new AuthTransactor(this.deps.database.db).consumeNonce(fields.nonce, now.toISOString()))) {
      throw new HttpError({ code: 'nonce_invalid', message: 'The sign-in nonce is unknown, expired or already used.' })
    }
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
    const expiresAt = new Date(now.getTime() + this.deps.config.tokenTtlSeconds * 1000).toISOString()
    await this.deps.database.transaction(async (tx) => {
      const t = new AuthTransactor(tx.db)
      await t.ensureUser(fields.address, now.toISOString())
      await t.insertSession({
        token_hash: hashToken(token),
        address: fields.address,
        created_at: now.toISOString(),
        expires_at: expiresAt,
        revoked_at: null,
      })
    })
    return { token, address: fields.address, expiresAt }
  }

  /** @throws {HttpError} `invalid_token`, `token_expired` or `token_revoked`. */
  async authenticate(token: string): Promise<Session> {
    const now = this.deps.clock.now().getTime()
    const tokenHash = hashToken(token)
    const cached = this.cache.get(tokenHash)
    let session = cached && cached.until > now ? cached.session : undefined
    if (!session) {
      const row = token.startsWith(TOKEN_PREFIX) ? await new AuthReader(this.deps.database.db).findSession(tokenHash) : undefined
      if (!row) throw new HttpError({ code: 'invalid_token', message: 'The session token is not valid.' })
      if (row.revoked_at) throw new HttpError({ code: 'token_revoked', message: 'The session token was revoked; sign in again.' })
      session = { address: row.address, expiresAt: Date.parse(row.expires_at) }
      if (this.cache.size > 10_000) this.cache.clear()
      this.cache.set(tokenHash, { session, until: now + CACHE_MS })
    }
    if (session.expiresAt <= now)
      throw new HttpError({ code: 'token_expired', message: 'The session token expired; sign in again.' })
    return session
  }

  async revoke(token: string): Promise<void> {
    const tokenHash = hashToken(token)
    this.cache.delete(tokenHash)
    await new AuthTransactor(this.deps.database.db).revokeSession(tokenHash, this.deps.clock.now().toISOString())
  }
}

/** The refusal, naming what this server expects where a client could have got it wrong. */
function refusal(error: SignInVerificationError, identity: ServiceIdentity): string {
  switch (error.failure) {
    case 'domain_mismatch':
      return `${error.shortMessage} Sign in to ${identity.domain}.`
    case 'uri_mismatch':
      return `${error.shortMessage} Sign in with a URI on ${identity.url}.`
    case 'chain_mismatch':
      return `${error.shortMessage} Sign in on chain ${identity.chainId}.`
    default:
      return error.shortMessage
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
