/**
 * The one error base of DMTP, shaped after viem's BaseError: a short message for people, optional
 * details and meta lines, a docs path, the cause, and `walk()` to find a cause of a given kind.
 *
 * Error codes are stable strings shared by server, SDK and CLI: the server sends
 * `{"error":{"code","message"}}`, the SDK rebuilds an {@link ApiError} with the same code.
 */
import { version } from './version.js'

export type ErrorType<name extends string = 'Error'> = Error & { name: name }

export type BaseErrorParameters = {
  cause?: unknown
  details?: string | undefined
  docsPath?: string | undefined
  metaMessages?: string[] | undefined
}

export type BaseErrorType = BaseError & { name: 'BaseError' }

export class BaseError extends Error {
  override name = 'BaseError'
  readonly shortMessage: string
  readonly details: string | undefined
  readonly docsPath: string | undefined
  readonly metaMessages: string[] | undefined
  readonly version = version

  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    const details =
      parameters.details ??
      (parameters.cause instanceof BaseError
        ? parameters.cause.details
        : parameters.cause instanceof Error
          ? parameters.cause.message
          : undefined)
    const message = [
      shortMessage,
      ...(parameters.metaMessages?.length ? ['', ...parameters.metaMessages] : []),
      ...(details && details !== shortMessage ? ['', `Details: ${details}`] : []),
      ...(parameters.docsPath ? [`Docs: ${parameters.docsPath}`] : []),
      `Version: @dmtp/protocol@${version}`,
    ].join('\n')
    super(message, parameters.cause === undefined ? undefined : { cause: parameters.cause })
    this.shortMessage = shortMessage
    this.details = details
    this.docsPath = parameters.docsPath
    this.metaMessages = parameters.metaMessages
  }

  /** Walks the cause chain; returns the first error for which `fn` is true, or the last one. */
  walk(fn?: (error: unknown) => boolean): unknown {
    let error: unknown = this
    while (error instanceof Error) {
      if (fn?.(error)) return error
      if (!error.cause) return fn ? null : error
      error = error.cause
    }
    return fn ? null : error
  }
}

/**
 * Every code the API can answer with, and its HTTP status. Codes never change meaning once
 * published; add new ones instead.
 */
export const errorCodes = {
  invalid_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  invalid_signature: 400,
  invalid_key_bundle: 400,
  invalid_envelope: 400,
  invalid_siwe_message: 400,
  clock_skew: 400,
  position_out_of_range: 400,
  e2ee_required: 400,
  invalid_key_distribution: 400,
  auth_required: 401,
  invalid_token: 401,
  token_expired: 401,
  token_revoked: 401,
  nonce_invalid: 401,
  siwe_expired: 401,
  siwe_not_yet_valid: 401,
  siwe_issued_in_future: 401,
  siwe_issued_too_long_ago: 401,
  siwe_domain_mismatch: 401,
  siwe_uri_mismatch: 401,
  siwe_chain_mismatch: 401,
  api_key_required: 401,
  invalid_api_key: 401,
  api_key_revoked: 401,
  forbidden: 403,
  sender_mismatch: 403,
  not_member: 403,
  banned: 403,
  muted: 403,
  not_found: 404,
  key_not_found: 404,
  room_not_found: 404,
  message_not_found: 404,
  api_key_not_found: 404,
  link_not_found: 404,
  request_timeout: 408,
  conflict: 409,
  recipient_not_registered: 409,
  recipient_registered: 409,
  stale_key: 409,
  message_id_conflict: 409,
  stale_key_bundle: 409,
  too_many_api_keys: 409,
  e2ee_off: 409,
  stale_epoch: 409,
  epoch_conflict: 409,
  log_head_moved: 409,
  link_revoked: 410,
  link_expired: 410,
  invitation_expired: 410,
  link_used_up: 410,
  body_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
  too_many_connections: 429,
  too_many_streams: 429,
  too_many_frames: 429,
  headers_too_large: 431,
  internal_error: 500,
  upstream_failure: 502,
  unavailable: 503,
  chain_unavailable: 503,
  storage_full: 507,
} as const

export type ErrorCode = keyof typeof errorCodes

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value)
}

export type ApiErrorType = ApiError & { name: 'ApiError' }

/** What an error tells a client beyond its code, to act on it (e.g. the epoch to rotate from). */
export type ErrorDetails = Record<string, string | number | boolean | null>

/** An error with a stable API code; the server renders it, the SDK rebuilds it from a response. */
export class ApiError extends BaseError {
  override name = 'ApiError'
  readonly code: ErrorCode
  readonly status: number
  /** The `details` of the error response (`BaseError.details` is the cause's message). */
  readonly data: ErrorDetails | undefined

  constructor({
    code,
    message,
    cause,
    metaMessages,
    details,
  }: { code: ErrorCode; message: string; cause?: unknown; metaMessages?: string[]; details?: ErrorDetails | undefined }) {
    super(message, { cause, metaMessages })
    this.code = code
    this.status = errorCodes[code]
    this.data = details
  }
}

export type InvalidKeyErrorType = InvalidKeyError & { name: 'InvalidKeyError' }

/** A public key that must not be used: wrong length, or a low-order X25519 point. */
export class InvalidKeyError extends BaseError {
  override name = 'InvalidKeyError'
  constructor({ reason }: { reason: string }) {
    super(`Invalid key: ${reason}.`)
  }
}

export type DecryptionFailedErrorType = DecryptionFailedError & { name: 'DecryptionFailedError' }

/** Authenticated decryption failed: wrong key, or the ciphertext, nonce or header was altered. */
export class DecryptionFailedError extends BaseError {
  override name = 'DecryptionFailedError'
  constructor({ what, cause }: { what: string; cause?: unknown }) {
    super(`Could not decrypt ${what}: wrong key, or the data was altered.`, { cause })
  }
}

export type SignatureInvalidErrorType = SignatureInvalidError & { name: 'SignatureInvalidError' }

export class SignatureInvalidError extends BaseError {
  override name = 'SignatureInvalidError'
  constructor({ what, reason }: { what: string; reason: string }) {
    super(`Invalid signature on ${what}: ${reason}.`)
  }
}
