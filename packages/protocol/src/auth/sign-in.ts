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

export type SignInFailure = 'malformed' | 'domain_mismatch' | 'nonce_mismatch' | 'expired' | 'not_yet_valid' | 'invalid_signature'

export type VerifySignInParameters = {
  message: string
  signature: string
  /** The domain this server answers to; the message must name it (anti-phishing). */
  domain: string
  /** When given, the message must carry exactly this nonce. */
  nonce?: string | undefined
  /** The time to check validity at; defaults to now. */
  time?: Date | undefined
  verifyWalletMessage?: VerifyWalletMessage | undefined
}

/**
 * Verifies a signed sign-in message: grammar, domain, nonce, validity window, then the signature.
 * @returns the parsed fields.
 * @throws {SignInVerificationError} naming the first check that failed.
 */
export async function verifySignIn({
  message,
  signature,
  domain,
  nonce,
  time = new Date(),
  verifyWalletMessage = verifyMessage as VerifyWalletMessage,
}: VerifySignInParameters): Promise<SignInFields> {
  let fields: SignInFields
  try {
    fields = parseSignInMessage(message)
  } catch (cause) {
    throw new SignInVerificationError({ failure: 'malformed', cause })
  }
  if (fields.domain !== domain) throw new SignInVerificationError({ failure: 'domain_mismatch' })
  if (nonce !== undefined && fields.nonce !== nonce) throw new SignInVerificationError({ failure: 'nonce_mismatch' })
  if (fields.expirationTime !== undefined && time.getTime() >= Date.parse(fields.expirationTime)) {
    throw new SignInVerificationError({ failure: 'expired' })
  }
  if (fields.notBefore !== undefined && time.getTime() < Date.parse(fields.notBefore)) {
    throw new SignInVerificationError({ failure: 'not_yet_valid' })
  }
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

export type SignInVerificationErrorType = SignInVerificationError & { name: 'SignInVerificationError' }

const failureText: Record<SignInFailure, string> = {
  malformed: 'the message is not a valid EIP-4361 message',
  domain_mismatch: 'the message was made for another domain',
  nonce_mismatch: 'the message carries another nonce',
  expired: 'the message has expired',
  not_yet_valid: 'the message is not valid yet',
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
