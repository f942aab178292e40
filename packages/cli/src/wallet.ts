/**
 * The wallet a command signs with: the private key in the file named by `--wallet-key-file`, else
 * the one in `DMTP_WALLET_KEY`. Either holds a 0x-prefixed 32-byte hex secp256k1 key; whitespace
 * around it is ignored. The key never leaves this process and is never printed.
 */
import fs from 'node:fs'
import { type DmtpWallet, privateKeyWallet } from '@dmtp/sdk'
import { CliError } from './errors.js'
import type { GlobalOptions } from './global-options.js'

/**
 * Loads the wallet for a command that signs.
 * @throws {CliError} `wallet_required` when no key is given; `invalid_request` when the key or its file is unusable.
 * @example
 * import { requireWallet } from './wallet.js'
 * const client = connect(options, requireWallet(options))
 */
export function requireWallet({ walletKeyFile }: Pick<GlobalOptions, 'walletKeyFile'>): DmtpWallet {
  let key: string
  let source: string
  if (walletKeyFile !== undefined) {
    source = `the wallet key file ${walletKeyFile}`
    try {
      key = fs.readFileSync(walletKeyFile, 'utf8')
    } catch (cause) {
      throw new CliError({
        code: 'invalid_request',
        message: `Cannot read ${source} (${(cause as NodeJS.ErrnoException).code ?? 'unknown error'}).`,
        cause,
      })
    }
  } else if (process.env.DMTP_WALLET_KEY) {
    source = 'DMTP_WALLET_KEY'
    key = process.env.DMTP_WALLET_KEY
  } else {
    throw new CliError({ code: 'wallet_required', message: 'This command needs a wallet, and none was given.' })
  }
  try {
    return privateKeyWallet(key.trim())
  } catch (cause) {
    // The key itself stays out of the message.
    throw new CliError({ code: 'invalid_request', message: `${source} does not hold a private key (0x + 64 hex digits).`, cause })
  }
}
