/**
 * The HTTP transport: JSON in, JSON out, every response parsed with the protocol's zod schema
 * (a client must not trust a server's shapes), every failure an `ApiError` with a stable code.
 */
import { ApiError, errorResponseSchema } from '@dmtp/protocol'
import type { z } from 'zod'

export type HttpRequest<T> = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  query?: Record<string, string | number | undefined> | undefined
  body?: unknown
  token?: string | undefined
  schema?: z.ZodType<T> | undefined
}

export type HttpTransport = {
  readonly url: string
  request<T>(request: HttpRequest<T>): Promise<T>
}

export type CreateHttpTransportParameters = {
  url: string
  /** A dApp's API key, sent on every request as `x-dmtp-api-key`. */
  apiKey?: string | undefined
  fetch?: typeof globalThis.fetch | undefined
  timeoutMs?: number | undefined
}

/**
 * @example
 * import { createHttpTransport } from '@dmtp/sdk'
 * const http = createHttpTransport({ url: 'http://localhost:8787' })
 */
export function createHttpTransport({
  url,
  fetch = globalThis.fetch,
  timeoutMs = 15_000,
  apiKey,
}: CreateHttpTransportParameters): HttpTransport {
  const base = url.replace(/\/$/, '')
  return {
    url: base,
    async request<T>({ method, path, query, body, token, schema }: HttpRequest<T>): Promise<T> {
      const search = query
        ? `?${new URLSearchParams(
            Object.entries(query)
              .filter((e): e is [string, string | number] => e[1] !== undefined)
              .map(([k, v]) => [k, String(v)]),
          ).toString()}`
        : ''
      let response: Response
      try {
        response = await fetch(`${base}${path}${search === '?' ? '' : search}`, {
          method,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(apiKey ? { 'x-dmtp-api-key': apiKey } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (cause) {
        throw new ApiError({ code: 'unavailable', message: `Cannot reach the DMTP server at ${base}.`, cause })
      }
      const text = await response.text()
      let json: unknown
      try {
        json = text ? JSON.parse(text) : undefined
      } catch (cause) {
        throw new ApiError({
          code: 'upstream_failure',
          message: `The server at ${base} answered with something that is not JSON.`,
          cause,
        })
      }
      if (!response.ok) {
        const parsed = errorResponseSchema.safeParse(json)
        if (parsed.success) throw new ApiError(parsed.data.error)
        throw new ApiError({
          code: response.status >= 500 ? 'upstream_failure' : 'invalid_request',
          message: `HTTP ${response.status} from ${path}`,
        })
      }
      if (!schema) return json as T
      const parsed = schema.safeParse(json)
      if (!parsed.success) {
        throw new ApiError({
          code: 'upstream_failure',
          message: `The server's answer to ${method} ${path} does not match the protocol.`,
          cause: parsed.error,
        })
      }
      return parsed.data
    },
  }
}
