/**
 * Cross-cutting plugins: bearer-token authentication (routes opt in with `config: { auth: true }`),
 * dApp API keys and CORS for the API, strict JSON bodies (UTF-8 only, RFC 8259 §8.1, and no lone
 * surrogates, I-JSON RFC 7493 §2.1), and the error handler that renders every failure as
 * `{"error":{"code","message"}}`.
 */
import { isUtf8 } from 'node:buffer'
import type { FastifyCorsOptions } from '@fastify/cors'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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

function sendError(reply: FastifyReply, http: HttpError): FastifyReply {
  const details = http.data ? { details: http.data } : {}
  return reply.status(http.status).send({ error: { code: http.code, message: http.shortMessage, ...details } })
}

export const errorPlugin = fp(async (app: FastifyInstance, { ctx }: { ctx: AppContext }) => {
  app.setErrorHandler(async (error, request, reply) => {
    const http = toHttpError(error)
    if (http.status >= 500) ctx.logger.error({ err: error, url: redactUrl(request.url) }, 'request failed')
    if (http.code === 'body_too_large') await discardRestOfBody(request)
    return sendError(reply, http)
  })
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` } }),
  )
})

/**
 * Errors the router answers before any route runs (Fastify's `frameworkErrors` option), in the
 * project's error shape: a path parameter over `maxParamLength`, a malformed percent-encoding.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'Invalid request: params: a path parameter is too long.'
      : 'Invalid request: the URL is malformed (bad percent-encoding).'
  return sendError(reply, new HttpError({ code: 'validation_failed', message }))
}

/** How long, and how much, of a refused body is still read (and dropped) before answering 413. */
const DISCARD_BODY_MS = 10_000
const DISCARD_BODY_BYTES = 64 * 1024 * 1024

/**
 * Reads the rest of a body refused as too large and drops it, so that the 413 goes out once the
 * client has sent everything. Answered at once, the connection closes while the client is still
 * sending: its next write fails (EPIPE, or a reset) and many clients never read the answer. Past
 * the bound in bytes or time the socket is destroyed instead (the answer then goes nowhere).
 */
function discardRestOfBody(request: FastifyRequest): Promise<void> {
  const { raw } = request
  if (raw.readableEnded) return Promise.resolve()
  return new Promise((resolve) => {
    let discarded = 0
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    const giveUp = () => {
      raw.socket.destroy()
      done()
    }
    const timer = setTimeout(giveUp, DISCARD_BODY_MS)
    raw.on('data', (chunk: Buffer) => {
      discarded += chunk.length
      if (discarded > DISCARD_BODY_BYTES) giveUp()
    })
    raw.once('end', done)
    raw.once('close', done)
  })
}

/** Charset labels of UTF-8 that a JSON body may name (the WHATWG Encoding names in use). */
const UTF8_LABELS = new Set(['utf-8', 'utf8'])

function charsetOf(contentType: string | undefined): string | undefined {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const [name, value = ''] = parameter.split('=', 2).map((part) => part.trim())
    if (name?.toLowerCase() === 'charset') return value.replace(/^"(.*)"$/, '$1').toLowerCase()
  }
  return undefined
}

// A `\uD800`–`\uDFFF` escape in the text: only then can the parsed value hold a lone surrogate.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/
// With the `u` flag, a surrogate pair is one code point: only lone surrogates match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** Whether any string (key or value) in a parsed JSON value holds a lone surrogate; iterative, as nesting can be deep. */
function hasLoneSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (typeof item === 'string') {
      if (LONE_SURROGATE.test(item)) return true
    } else if (Array.isArray(item)) {
      for (const child of item) pending.push(child)
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) pending.push(key, child)
    }
  }
  return false
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
}

/**
 * Replaces Fastify's JSON parser (which decodes bytes that are not UTF-8 into U+FFFD, and ignores
 * the charset) with one that refuses another charset (415), bytes that are not UTF-8 and lone
 * surrogates (400 `invalid_json`), then parses as Fastify does (prototype poisoning refused).
 * A route without a body schema (`POST /v1/auth/nonce`, `/v1/auth/revoke`, a DELETE) takes no
 * body, or `{}`: anything else is `validation_failed`, as it is where a schema says what to send.
 */
export const jsonBodyPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('preValidation', async (request) => {
    const { body } = request
    if (body === undefined || body === null || request.routeOptions.schema?.body !== undefined || isEmptyObject(body)) return
    throw new HttpError({
      code: 'validation_failed',
      message: 'Invalid request: body: this route takes no body (send none, or {}).',
    })
  })
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    const charset = charsetOf(request.headers['content-type'])
    if (charset !== undefined && !UTF8_LABELS.has(charset)) {
      return done(new HttpError({ code: 'unsupported_media_type', message: 'Send JSON in UTF-8: charset=utf-8, or no charset.' }))
    }
    if (!isUtf8(body)) return done(new HttpError({ code: 'invalid_json', message: 'The request body is not valid UTF-8.' }))
    const text = body.toString('utf8')
    parseJson(request, text, (error, value) => {
      if (error) return done(error)
      if (SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value)) {
        return done(
          new HttpError({
            code: 'invalid_json',
            message: 'The request body holds a lone surrogate (\\uD800–\\uDFFF): not valid Unicode.',
          }),
        )
      }
      done(null, value)
    })
  })
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
