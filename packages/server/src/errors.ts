/**
 * HTTP errors: each with a status and a stable code (from @dmtp/protocol, so the SDK rebuilds the
 * same class). `toHttpError` maps anything thrown in a handler to one of them; a 5xx never repeats
 * the internal message.
 */
import { ApiError, type ErrorCode } from '@dmtp/protocol'
import { isStorageFull } from './db/storage-monitor.js'

export class HttpError extends ApiError {
  override name = 'HttpError'
}

const make =
  (fallback: ErrorCode) =>
  (message: string, code: ErrorCode = fallback) =>
    new HttpError({ code, message })

export const invalidRequest = make('invalid_request')
export const authRequired = make('auth_required')
export const forbidden = make('forbidden')
export const notFound = make('not_found')
export const conflict = make('conflict')
export const rateLimited = make('rate_limited')

type FastifyLikeError = Error & {
  code?: string
  statusCode?: number
  validation?: { instancePath?: string; message?: string }[]
  validationContext?: string
}

function describeValidation(error: FastifyLikeError): string {
  const issues = (error.validation ?? []).slice(0, 5).map((issue) => {
    // `instancePath` is '/' for the whole body (e.g. an unknown key there), else '/field/sub'.
    const field = (issue.instancePath ?? '').split('/').filter(Boolean).join('.')
    const context = error.validationContext ?? 'request'
    const where = field ? `${context}.${field}` : context
    return `${where}: ${issue.message ?? 'invalid'}`
  })
  return `Invalid request: ${issues.join('; ')}`
}

/** Maps any thrown value to an HttpError. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error
  if (error instanceof ApiError) return new HttpError({ code: error.code, message: error.shortMessage, details: error.data })
  const e = error as FastifyLikeError
  if (e?.validation) return new HttpError({ code: 'validation_failed', message: describeValidation(e) })
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError({ code: 'invalid_json', message: 'The request body is not valid JSON.' })
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError({ code: 'body_too_large', message: 'The request body is too large.' })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError({ code: 'unsupported_media_type', message: 'Send JSON (application/json).' })
  }
  if (e instanceof SyntaxError && e.statusCode === 400) {
    return new HttpError({ code: 'invalid_json', message: 'The request body is not valid JSON.' })
  }
  if (e?.statusCode === 429) return new HttpError({ code: 'rate_limited', message: 'Too many requests; slow down.' })
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new HttpError({ code: 'invalid_request', message: e.message })
  }
  if (isStorageFull(error)) {
    return new HttpError({
      code: 'storage_full',
      message: 'The server is out of storage space: nothing was stored. Try again later.',
    })
  }
  return new HttpError({ code: 'internal_error', message: 'Internal server error.' })
}
