/**
 * The SDK client behind every command: the server from `--server`, the node:crypto backend
 * (faster than the WebCrypto/noble default), and session tokens kept in `--home`, so the next
 * command reuses the session instead of signing in again.
 */
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { createClient, type DmtpClient, type WalletInput } from '@dmtp/sdk'
import type { GlobalOptions } from './global-options.js'
import { fileStorage } from './home.js'

/**
 * @example
 * import { connect } from './connect.js'
 * import { requireWallet } from './wallet.js'
 * const client = connect(options, requireWallet(options))
 * await client.send('0xB0b…', 'gm')
 */
export function connect(options: Pick<GlobalOptions, 'server' | 'home'>, wallet?: WalletInput): DmtpClient {
  return createClient({ server: options.server, wallet, crypto: nodeCryptoBackend, storage: fileStorage(options.home) })
}
