/** The options every command accepts (`--json`, `--server`, `--home`, `--wallet-key-file`), as one typed object. */
import type { Command } from 'commander'

export type GlobalOptions = {
  /** Machine output: JSON on stdout, errors as JSON on stderr. */
  json: boolean
  server: string
  /** State directory for session tokens. */
  home: string
  walletKeyFile: string | undefined
}

/**
 * Reads the global options as seen by a (sub)command.
 * @example
 * import { globalOptions } from './global-options.js'
 * command.action((options, command) => connect(globalOptions(command), wallet))
 */
export function globalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<{ json?: boolean; server: string; home: string; walletKeyFile?: string }>()
  return { json: options.json === true, server: options.server, home: options.home, walletKeyFile: options.walletKeyFile }
}
