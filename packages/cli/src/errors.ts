/**
 * Errors the CLI raises itself, each with a stable `code` next to the API's codes (the SDK's
 * errors keep theirs): what `--json` prints as `{"error":{"code","message"}}`.
 */
import { BaseError } from '@dmtp/protocol'
import { CommanderError } from 'commander'

/** Codes only the CLI produces; every other code comes from the API or the SDK. */
export type CliErrorCode = 'wallet_required' | 'invalid_request' | 'invalid_config' | 'address_in_use'

export type CliErrorType = CliError & { name: 'CliError' }

export class CliError extends BaseError {
  override name = 'CliError'
  readonly code: CliErrorCode
  constructor({
    code,
    message,
    metaMessages,
    cause,
  }: { code: CliErrorCode; message: string; metaMessages?: string[] | undefined; cause?: unknown }) {
    super(message, { metaMessages, cause })
    this.code = code
  }
}

/**
 * A usage error found after parsing (options that must go together, or one of two that is
 * missing): rendered like commander's own, with code `usage` and exit status 2.
 * @example
 * if (!options.to && !options.room) throw usageError('pass --to <address> or --room <id>')
 */
export function usageError(message: string): CommanderError {
  return new CommanderError(2, 'commander.usage', message)
}
