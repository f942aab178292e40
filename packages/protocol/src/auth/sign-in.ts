/**
 * Sign-In with Ethereum (EIP-4361, https://eips.ethereum.org/EIPS/eip-4361). Messages are built
 * here and parsed with the reference ABNF parser (@spruceid/siwe-parser), so a message is accepted
 * only if it is exactly what the EIP's grammar allows: strict dates, EIP-55 addresses, RFC 3986
 * URIs and authorities, nonces of 8+ alphanumerics. Checked against the spruceid vectors.
 */
import { ParsedMessage } from '@spruceid/siwe-parser'
import { verifyMessage } from 'viem/utils'
import { BaseError } from '../errors.js'
import type { VerifyWalletMessage } from '../keys/key-bundle.js'
import { formatSignInMessage, type SignInFields, SignInMessageError, TEXT_FIELDS } from './sign-in-message.js'

export { type SignInFields, SignInMessageError }

/**
 * Formats an EIP-4361 message, then parses it back strictly.
 * @throws {SignInMessageError} when any field is outside the grammar.
 * @example
 * import { createSignInMessage } from '@dmtp/protocol'
 * const message = createSignInMessage({ domain: 'localhost:8787', address, uri: 'http://localhost:8787',
 *   version: '1', chainId: 1, nonce, issuedAt: new Date().toISOString() })
 */
export function createSignInMessage(fields: SignInFields): string {
  const message = formatSignInMessage(fields)
  const parsed = parseSignInMessage(message)
  const keys = [...TEXT_FIELDS, 'chainId'] as const
  const changed = keys.find((key) => (parsed[key] ?? undefined) !== (fields[key] ?? undefined))
  if (changed || JSON.stringify(parsed.resources ?? []) !== JSON.stringify(fields.resources ?? [])) {
    throw new SignInMessageError({ reason: `"${changed ?? 'resources'}" does not survive formatting` })
  }
  return message
}

/**
 * Parses an EIP-4361 message strictly.
 * @throws {SignInMessageError} when the text is not a valid message.
 */
export function parseSignInMessage(message: string): SignInFields {
  if (typeof message !== 'string' || message.length > 16_384) {
    throw new SignInMessageError({ reason: 'expected a string of at most 16 KiB' })
  }
  let parsed: ParsedMessage
  try {
    parsed = new ParsedMessage(message)
  } catch (cause) {
    throw new SignInMessageError({ reason: cause instanceof Error ? cause.message : String(cause) })
  }
  if (parsed.version !== '1') throw new SignInMessageError({ reason: 'version must be 1' })
  return {
    scheme: parsed.scheme ?? undefined,
    domain: parsed.domain,
    address: parsed.address,
    statement: parsed.statement ?? undefined,
    uri: parsed.uri,
    version: '1',
    chainId: parsed.chainId,
    nonce: parsed.nonce,
    issuedAt: parsed.issuedAt as string,
    expirationTime: parsed.expirationTime ?? undefined,
    notBefore: parsed.notBefore ?? undefined,
    requestId: parsed.requestId ?? undefined,
    resources: parsed.resources ?? undefined,
  }
}

export type SignInFailure =
  | 'malformed'
  | 'domain_mismatch'
  | 'uri_mismatch'
  | 'chain_mismatch'
  | 'nonce_mismatch'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'issued_too_long_ago'
  | 'invalid_signature'

export type VerifySignInParameters = {
  message: string
  signature: string
  /** The domain this server answers to; the message must name it (anti-phishing). */
  domain: string
  /**
   * When given, the origin (`scheme://host[:port]`) this server answers at: the message's URI must
   * be on it, and a scheme before the domain must be its scheme.
   */
  origin?: string | undefined
  /** When given, the message must name this chain. */
  chainId?: number | undefined
  /** When given, the message must carry exactly this nonce. */
  nonce?: string | undefined
  /** The time to check validity at; defaults to now. */
  time?: Date | undefined
  /**
   * When given, how far the signer's clock may be ahead: `Issued At` and `Not Before` may be at most
   * this far after `time`. Unset: `Issued At` is not checked against `time`, `Not Before` strictly.
   */
  clockSkewMs?: number | undefined
  /** When given, `Issued At` may be at most this far before `time`. */
  maxAgeMs?: number | undefined
  verifyWalletMessage?: VerifyWalletMessage | undefined
}

/**
 * Verifies a signed sign-in message: grammar, domain, origin, chain, nonce, validity window, then
 * the signature.
 * @returns the parsed fields.
 * @throws {SignInVerificationError} naming the first check that failed.
 */
export async function verifySignIn({
  message,
  signature,
  domain,
  origin,
  chainId,
  nonce,
  time = new Date(),
  clockSkewMs,
  maxAgeMs,
  verifyWalletMessage = verifyMessage as VerifyWalletMessage,
}: VerifySignInParameters): Promise<SignInFields> {
  let fields: SignInFields
  try {
    fields = parseSignInMessage(message)
  } catch (cause) {
    throw new SignInVerificationError({ failure: 'malformed', cause })
  }
  const failure = fieldFailure(fields, { domain, origin, chainId, nonce, time: time.getTime(), clockSkewMs, maxAgeMs })
  if (failure) throw new SignInVerificationError({ failure })
  let valid = false
  try {
    valid =
      /^0x([0-9a-fA-F]{2})+$/.test(signature) &&
      (await verifyWalletMessage({
        address: fields.address as `0x${string}`,
        message,
        signature: signature as `0x${string}`,
      }))
  } catch {
    valid = false
  }
  if (!valid) throw new SignInVerificationError({ failure: 'invalid_signature' })
  return fields
}

type FieldChecks = Omit<VerifySignInParameters, 'message' | 'signature' | 'time' | 'verifyWalletMessage'> & { time: number }

/** The first field of a parsed message that the checks refuse, if any. */
function fieldFailure(fields: SignInFields, checks: FieldChecks): SignInFailure | undefined {
  const { domain, origin, chainId, nonce, time, clockSkewMs, maxAgeMs } = checks
  const expected = origin === undefined ? undefined : new URL(origin)
  if (fields.domain !== domain) return 'domain_mismatch'
  if (expected && fields.scheme !== undefined && `${fields.scheme}:` !== expected.protocol) return 'domain_mismatch'
  if (expected && !isOnOrigin(fields.uri, expected.origin)) return 'uri_mismatch'
  if (chainId !== undefined && fields.chainId !== chainId) return 'chain_mismatch'
  if (nonce !== undefined && fields.nonce !== nonce) return 'nonce_mismatch'
  if (fields.expirationTime !== undefined && time >= Date.parse(fields.expirationTime)) return 'expired'
  if (fields.notBefore !== undefined && time + (clockSkewMs ?? 0) < Date.parse(fields.notBefore)) return 'not_yet_valid'
  const issuedAt = Date.parse(fields.issuedAt)
  if (clockSkewMs !== undefined && issuedAt > time + clockSkewMs) return 'issued_in_future'
  if (maxAgeMs !== undefined && issuedAt < time - maxAgeMs) return 'issued_too_long_ago'
  return undefined
}

/** Whether `uri` is an address on `origin` (same scheme, host and port; no user info). */
function isOnOrigin(uri: string, origin: string): boolean {
  if (!URL.canParse(uri)) return false
  const url = new URL(uri)
  return url.origin === origin && url.username === '' && url.password === ''
}

export type SignInVerificationErrorType = SignInVerificationError & { name: 'SignInVerificationError' }

const failureText: Record<SignInFailure, string> = {
  malformed: 'the message is not a valid EIP-4361 message',
  domain_mismatch: 'the message was made for another domain',
  uri_mismatch: 'the message was made for another site (its URI is not on this server)',
  chain_mismatch: 'the message names another chain',
  nonce_mismatch: 'the message carries another nonce',
  expired: 'the message has expired',
  not_yet_valid: 'the message is not valid yet',
  issued_in_future: 'the message is dated in the future',
  issued_too_long_ago: 'the message was issued too long ago',
  invalid_signature: 'the signature is not from the address in the message',
}

export class SignInVerificationError extends BaseError {
  override name = 'SignInVerificationError'
  readonly failure: SignInFailure
  constructor({ failure, cause }: { failure: SignInFailure; cause?: unknown }) {
    super(`Sign-in rejected: ${failureText[failure]}.`, { cause })
    this.failure = failure
  }
}
