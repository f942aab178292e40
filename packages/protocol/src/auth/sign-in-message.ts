/**
 * Writing an EIP-4361 message (https://eips.ethereum.org/EIPS/eip-4361), without its parser, for
 * clients: the parser (`sign-in.ts`, the reference ABNF grammar) weighs ~35 kB in a browser bundle
 * and only the server needs it, which parses every message it is given strictly anyway. What a
 * client must refuse here is a field that would change the message's meaning: a line break (a
 * server naming itself `evil.example\nURI: …`), a control character, an empty required field.
 */
import { BaseError } from '../errors.js'

export type SignInFields = {
  scheme?: string | undefined
  domain: string
  address: string
  statement?: string | undefined
  uri: string
  version: '1'
  chainId: number
  nonce: string
  issuedAt: string
  expirationTime?: string | undefined
  notBefore?: string | undefined
  requestId?: string | undefined
  resources?: string[] | undefined
}

const REQUIRED = ['domain', 'address', 'uri', 'version', 'nonce', 'issuedAt'] as const

/** Every field of one line of text, in the message's order (`chainId` is a number, `resources` a list). @internal */
export const TEXT_FIELDS = [
  'scheme',
  'domain',
  'address',
  'statement',
  'uri',
  'version',
  'nonce',
  'issuedAt',
  'expirationTime',
  'notBefore',
  'requestId',
] as const
// One line each: no line breaks or other control characters (a statement may not span lines either).
const ONE_LINE = /^[^\p{Cc}\u2028\u2029]*$/u

/**
 * Formats an EIP-4361 message from its fields.
 * @throws {SignInMessageError} for a missing field, or one that would not stay on its line.
 * @example
 * import { formatSignInMessage } from '@dmtp/protocol'
 * const message = formatSignInMessage({ domain: 'localhost:8787', address, uri: 'http://localhost:8787',
 *   version: '1', chainId: 1, nonce, issuedAt: new Date().toISOString() })
 */
export function formatSignInMessage(fields: SignInFields): string {
  for (const name of REQUIRED) {
    if (typeof fields[name] !== 'string' || fields[name] === '') {
      throw new SignInMessageError({ reason: `"${name}" is required and must be a string` })
    }
  }
  if (!Number.isSafeInteger(fields.chainId) || fields.chainId < 1) {
    throw new SignInMessageError({ reason: '"chainId" must be a positive integer' })
  }
  const texts: [string, string | undefined][] = [
    ...TEXT_FIELDS.map((name): [string, string | undefined] => [name, fields[name]]),
    ...(fields.resources ?? []).map((resource): [string, string] => ['resources', resource]),
  ]
  const broken = texts.find(([, value]) => value != null && (typeof value !== 'string' || !ONE_LINE.test(value)))
  if (broken) throw new SignInMessageError({ reason: `"${broken[0]}" must be one line of text` })
  const header = `${fields.scheme ? `${fields.scheme}://` : ''}${fields.domain} wants you to sign in with your Ethereum account:`
  const lines = [header, fields.address, '', ...(fields.statement === undefined ? [''] : [fields.statement, ''])]
  lines.push(`URI: ${fields.uri}`, `Version: ${fields.version}`, `Chain ID: ${fields.chainId}`)
  lines.push(`Nonce: ${fields.nonce}`, `Issued At: ${fields.issuedAt}`)
  if (fields.expirationTime !== undefined) lines.push(`Expiration Time: ${fields.expirationTime}`)
  if (fields.notBefore !== undefined) lines.push(`Not Before: ${fields.notBefore}`)
  if (fields.requestId !== undefined) lines.push(`Request ID: ${fields.requestId}`)
  if (fields.resources !== undefined) lines.push('Resources:', ...fields.resources.map((resource) => `- ${resource}`))
  return lines.join('\n')
}

export type SignInMessageErrorType = SignInMessageError & { name: 'SignInMessageError' }

export class SignInMessageError extends BaseError {
  override name = 'SignInMessageError'
  constructor({ reason }: { reason: string }) {
    super('Invalid Sign-In with Ethereum message.', { details: reason, docsPath: 'https://eips.ethereum.org/EIPS/eip-4361' })
  }
}
