/**
 * The embedded chain: anvil in the data dir, the operator key funded through anvil's
 * `anvil_setBalance`, and the registry deployed on first start (its address kept in `registry.json`). If the chain state is lost while
 * the file survives, the registry is deployed again and the log says so.
 */
import { createTestClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { AnvilProcess } from './anvil-process.js'
import { EvmChain } from './evm-chain.js'
import { readRegistryFile, writeRegistryFile } from './registry-file.js'
import type { Hex } from './types.js'

export type AnvilChainParameters = {
  dir: string
  chainId: number
  stateIntervalSeconds: number
  publicRpcUrl: string | undefined
  operatorKey: Hex
}

export async function createAnvilChain({
  dir,
  chainId,
  stateIntervalSeconds,
  publicRpcUrl,
  operatorKey,
}: AnvilChainParameters): Promise<EvmChain> {
  const anvil = await AnvilProcess.start({ dir, chainId, stateInterval: stateIntervalSeconds })
  try {
    const account = privateKeyToAccount(operatorKey)
    await createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl, { retryCount: 0 }) }).setBalance({
      address: account.address,
      value: 10n ** 24n,
    })
    return await EvmChain.create(
      {
        url: anvil.rpcUrl,
        publicRpcUrl,
        chainId,
        account,
        registry: readRegistryFile(dir, chainId),
        local: true,
        onDeployed: (address) => writeRegistryFile(dir, chainId, address),
      },
      () => anvil.stop(),
    )
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
