import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import type { ChainConfig } from '../../config/config.js'
import { createAnvilChain } from './anvil-chain.js'
import { EvmChain } from './evm-chain.js'
import { readRegistryFile, writeRegistryFile } from './registry-file.js'
import type { ChainClient, Hex } from './types.js'

/** The chain client for the config, or undefined when anchoring is off (`provider: 'none'`). */
export async function createChain(
  config: ChainConfig,
  { chainId, dataDir, operatorKey }: { chainId: number; dataDir: string; operatorKey: Hex },
): Promise<ChainClient | undefined> {
  switch (config.provider) {
    case 'none':
      return undefined
    case 'anvil':
      return createAnvilChain({ ...config, chainId, operatorKey })
    case 'rpc': {
      // A configured registry must exist; without one, the server deploys its own once and
      // remembers it, like the embedded chain.
      const dir = path.join(dataDir, 'chain')
      return EvmChain.create({
        url: config.url,
        publicRpcUrl: config.publicRpcUrl,
        chainId,
        account: privateKeyToAccount(operatorKey),
        registry: config.registry ?? readRegistryFile(dir, chainId),
        local: /^https?:\/\/(localhost|127\.)/.test(config.url),
        onDeployed: config.registry ? undefined : (address) => writeRegistryFile(dir, chainId, address),
      })
    }
  }
}
