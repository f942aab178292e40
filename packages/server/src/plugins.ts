/**
 * Cross-cutting plugins: bearer-token authentication (routes opt in with `config: { auth: true }`),
 * dApp API keys and CORS for the API, and the error handler that renders every failure as
 * `{"error":{"code","message"}}`.
 */
import type { FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { AppContext } from './context.js'
import { HttpError, toHttpError } from './errors.js'
import { redactUrl } from './logger.js'
import type { Session } from './services/auth/auth-service.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: boolean
    /** `false`: the route never needs nor checks an API key (health, server info). */
    apiKey?: false
  }
  interface FastifyRequest {
    session: Session | null
    /** The id of the valid API key this request carried, if any. */
    apiKeyId: string | null
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer +(\S+)$/i.exec(header)
  return match?.[1]
}

/** The signed-in address of a route that declared `auth: true`. */
export function sessionAddress(request: FastifyRequest): string {
  if (!request.session) throw new HttpError({ code: 'auth_required', message: 'Sign in first.' })
  return request.session.address
}

export const authPlugin = fp(async (app: FastifyInstance, { ctx }: { ctx: AppContext }) => {
  app.decorateRequest('session', null)
  app.addHook('onRequest', async (request) => {
    if (!request.routeOptions.config.auth) return
    const token = bearerToken(request)
    if (!token) throw new HttpError({ code: 'auth_required', message: 'Sign in first: send Authorization: Bearer <token>.' })
    request.session = await ctx.auth.authenticate(token)
  })
})

export const errorPlugin = fp(async (app: FastifyInstance, { ctx }: { ctx: AppContext }) => {
  app.setErrorHandler((error, request, reply) => {
    const http = toHttpError(error)
    if (http.status >= 500) ctx.logger.error({ err: error, url: redactUrl(request.url) }, 'request failed')
    return reply.status(http.status).send({ error: { code: http.code, message: http.shortMessage } })
  })
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` } }),
  )
})

export const API_KEY_HEADER = 'x-dmtp-api-key'
/** Browsers cannot set headers on a WebSocket, so the stream also takes the key as `?apiKey=`. */
const STREAM_PATH = '/v1/stream'

/** The API (as opposed to the docs or the web app): where CORS and API keys apply. */
function isApiPath(path: string): boolean {
  return path.startsWith('/v1/') || path.startsWith('/ipfs/')
}

/**
 * Cross-origin browser calls to the API, from any origin: no cookies are involved (sessions are
 * bearer tokens), so `*` is safe and lets dApps call the server directly.
 */
export const corsOptions: FastifyCorsOptions = {
  delegator: async (request: FastifyRequest) =>
    isApiPath(request.url)
      ? {
          origin: '*',
          methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
          allowedHeaders: ['authorization', 'content-type', API_KEY_HEADER],
          exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
          maxAge: 600,
        }
      : { origin: false },
}

/**
 * Whether a request comes from a browser page on another origin: it has an `Origin` that is
 * neither the server's public URL nor the host the request was sent to (the web app this server
 * serves at /). Requests without `Origin` (CLI, servers, same-origin GETs) are not.
 */
function isCrossOrigin(request: FastifyRequest, ownUrl: string | undefined): boolean {
  const origin = request.headers.origin
  if (origin === undefined) return false
  if (origin === ownUrl) return false
  if (!URL.canParse(origin)) return true
  return new URL(origin).host !== request.headers.host
}

/**
 * API keys (docs/api.md, "API keys"): a request to the API that carries a key (the
 * `x-dmtp-api-key` header, or `?apiKey=` on the stream) must carry a valid, unrevoked one within
 * its per-minute rate; with `DMTP_API_KEYS=required`, cross-origin browser requests must carry one.
 */
export const apiKeyPlugin = fp(async (app: FastifyInstance, { ctx }: { ctx: AppContext }) => {
  app.decorateRequest('apiKeyId', null)
  app.addHook('onRequest', async (request, reply) => {
    // Preflights carry no custom headers; @fastify/cors answers them.
    if (request.method === 'OPTIONS') return
    const path = request.url.split('?')[0] ?? ''
    if (!isApiPath(path) || request.routeOptions.config.apiKey === false) return
    let key = request.headers[API_KEY_HEADER]
    if (key === undefined && path === STREAM_PATH) key = (request.query as Record<string, string | string[]>).apiKey
    if (key === undefined) {
      if (ctx.config.apiKeys.mode === 'required' && isCrossOrigin(request, ctx.identity.isSet ? ctx.identity.url : undefined)) {
        throw new HttpError({
          code: 'api_key_required',
          message: `This server requires an API key from dApps: send ${API_KEY_HEADER}: <key> (ask the operator for one).`,
        })
      }
      return
    }
    if (typeof key !== 'string') throw new HttpError({ code: 'invalid_api_key', message: 'Send one API key, not several.' })
    const checked = await ctx.apiKeys.check(key)
    const retryAfter = ctx.apiKeys.take(checked)
    if (retryAfter > 0) {
      reply.header('retry-after', String(retryAfter))
      throw new HttpError({ code: 'rate_limited', message: `This API key is over its rate limit; retry in ${retryAfter} s.` })
    }
    request.apiKeyId = checked.id
  })
})
