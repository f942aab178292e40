/**
 * What the CLI prints. Results go to stdout: a line for people, or JSON with `--json`. Notices
 * (connection lost, reconnected) and errors go to stderr. An error is `error: <message>` for
 * people, or exactly `{"error":{"code","message"}}` with `--json`, with the same stable codes as
 * the API. Stack traces only with `DMTP_DEBUG=1`.
 */
import { inspect } from 'node:util'
import { RecordExpiredError, SignatureInvalidError } from '@dmtp/protocol'
import {
  ApiError,
  BaseError,
  KeyBundleRejectedError,
  KeysNotSetUpError,
  RecipientNotRegisteredError,
  ServerKeyRejectedError,
  SignInDomainMismatchError,
  WalletRequiredError,
} from '@dmtp/sdk'
import { CommanderError } from 'commander'
import { CliError } from './errors.js'

export type Failure = { code: string; message: string; metaMessages: string[]; exitCode: number }

/** What to run next, for the failures a person can fix. */
const HINTS: Record<string, string> = {
  unavailable: 'Is the server running? Start one with `dmtp serve`, or point at another with --server URL.',
  keys_not_set_up: 'Run `dmtp setup` first.',
  wallet_required: 'Set DMTP_WALLET_KEY=0x… (your wallet private key), or pass --wallet-key-file FILE.',
  usage: 'See `dmtp --help`.',
}

/**
 * Prints a result as one line of JSON on stdout.
 * @example
 * printJson({ id, room, e2ee })
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

/**
 * Prints a result line for people on stdout.
 * @example
 * printLine(`Sent ${id}`)
 */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`)
}

/**
 * Prints a notice on stderr, so it never mixes with results.
 * @example
 * printNotice('connection lost; reconnecting in 1.2 s')
 */
export function printNotice(line: string): void {
  process.stderr.write(`dmtp: ${line}\n`)
}

/**
 * Prints a warning a person must not miss on stderr (also with `--json`, whose stdout stays
 * machine-readable).
 * @example
 * printWarning('not end-to-end encrypted yet')
 */
export function printWarning(line: string): void {
  process.stderr.write(`warning: ${terminalSafe(line)}\n`)
}

/**
 * Classifies any thrown value: its stable code, a short message, and the exit code (2 for usage
 * errors, 1 otherwise).
 * @example
 * toFailure(new KeysNotSetUpError({ address })) // { code: 'keys_not_set_up', exitCode: 1, … }
 */
export function toFailure(error: unknown): Failure {
  if (error instanceof CommanderError) {
    return { code: 'usage', message: error.message.replace(/^error: /, ''), metaMessages: [], exitCode: 2 }
  }
  return {
    code: errorCode(error),
    message: error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error),
    metaMessages: error instanceof BaseError ? (error.metaMessages ?? []) : [],
    exitCode: 1,
  }
}

/**
 * Prints an error on stderr, as JSON or for people.
 * @returns the process exit code.
 * @example
 * process.exitCode = renderError(error, { json: true, debug: false })
 */
export function renderError(error: unknown, { json, debug }: { json: boolean; debug: boolean }): number {
  const failure = toFailure(error)
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`)
  } else {
    const hint = HINTS[failure.code]
    const lines = [`error: ${failure.message}`, ...failure.metaMessages, ...(hint ? [hint] : [])]
    process.stderr.write(`${terminalSafe(lines.join('\n'))}\n`)
  }
  if (debug) process.stderr.write(`${inspect(error, { depth: 8 })}\n`)
  return failure.exitCode
}

/**
 * Escapes control and bidi-override characters, so text from other people or from a server
 * cannot move the cursor, recolor the terminal or disguise itself. Newlines and tabs stay.
 * @example
 * terminalSafe('hi\u001b[2J') // 'hi\\u{1b}[2J'
 */
export function terminalSafe(text: string): string {
  let safe = ''
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    const unsafe =
      (code < 0x20 && char !== '\n' && char !== '\t') ||
      (code >= 0x7f && code <= 0x9f) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069)
    safe += unsafe ? `\\u{${code.toString(16)}}` : char
  }
  return safe
}

function errorCode(error: unknown): string {
  if (error instanceof CliError || error instanceof ApiError) return error.code
  if (error instanceof RecipientNotRegisteredError) return 'recipient_not_registered'
  if (error instanceof KeysNotSetUpError) return 'keys_not_set_up'
  if (error instanceof WalletRequiredError) return 'wallet_required'
  if (error instanceof KeyBundleRejectedError) return 'key_bundle_rejected'
  if (error instanceof ServerKeyRejectedError) return 'server_key_rejected'
  if (error instanceof SignInDomainMismatchError) return 'server_domain_mismatch'
  // Checked here before anything is sent: the same codes as the server's refusals. The only
  // signed records with an expiry the CLI reads are invite links.
  if (error instanceof SignatureInvalidError) return 'invalid_signature'
  if (error instanceof RecordExpiredError) return 'link_expired'
  // The SDK's other typed errors carry a stable code of their own (chain_changed, key_withheld, receipt_invalid, …).
  const code = error instanceof BaseError ? (error as unknown as { code?: unknown }).code : undefined
  if (typeof code === 'string') return code
  // The SDK and protocol check their inputs with TypeError (wrong kind) and RangeError (out of range).
  if (error instanceof TypeError || error instanceof RangeError) return 'invalid_request'
  return 'internal_error'
}
