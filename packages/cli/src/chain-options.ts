/**
 * `--chain-rpc` and `--registry`: the chain a user trusts for verification. Without them the
 * chain named by the server is used (convenient, but a fully lying server could name its own).
 */
import type { ChainTarget } from '@dmtp/sdk'
import type { Command } from 'commander'
import { CliError } from './errors.js'
import { parseAddress } from './parsers.js'

export function withChainOptions(command: Command): Command {
  return command
    .option('--chain-rpc <url>', 'EVM JSON-RPC to read the registry from (default: the one the server names)')
    .option('--registry <address>', 'DMTPRegistry contract address (default: the one the server names)', parseAddress)
}

export function chainTarget(options: { chainRpc?: string; registry?: string }): ChainTarget | undefined {
  if (!options.chainRpc && !options.registry) return undefined
  if (!options.chainRpc || !options.registry) {
    throw new CliError({ code: 'invalid_request', message: 'Pass --chain-rpc and --registry together.' })
  }
  return { rpcUrl: options.chainRpc, registry: options.registry as `0x${string}` }
}
