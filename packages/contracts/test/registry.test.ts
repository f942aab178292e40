import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createPublicClient, createWalletClient, type Hex, http, parseEventLogs } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { AnvilProcess } from '../../server/src/ports/chain/anvil-process.js'
// @ts-expect-error plain ESM script without types
import { compileRegistry } from '../scripts/compile.mjs'
import { dmtpRegistryAbi, dmtpRegistryBytecode, dmtpRegistrySourceSha256 } from '../src/index.js'

// anvil's well-known development accounts (public test keys)
const owner = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const stranger = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
const alice = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const bob = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'

describe('artifact', () => {
  test('default: generated/dmtp-registry.ts is what src/DMTPRegistry.sol compiles to', () => {
    const fresh = compileRegistry()
    expect(fresh.sourceSha256).toBe(dmtpRegistrySourceSha256)
    expect(fresh.abi).toEqual(dmtpRegistryAbi)
    expect(fresh.bytecode).toBe(dmtpRegistryBytecode)
  }, 60_000)
})

describe('DMTPRegistry on anvil', () => {
  let anvil: AnvilProcess
  let dir: string
  let address: Hex
  const chain = { ...foundry }
  let publicClient: ReturnType<typeof createPublicClient>
  const wallet = (account = owner) => createWalletClient({ account, chain, transport: http(anvil.rpcUrl, { retryCount: 0 }) })
  const write = async (functionName: string, args: unknown[], account = owner) => {
    const hash = await wallet(account).writeContract({ address, abi: dmtpRegistryAbi, functionName, args } as never)
    return publicClient.waitForTransactionReceipt({ hash })
  }
  const read = (functionName: string, args: unknown[] = []) =>
    publicClient.readContract({ address, abi: dmtpRegistryAbi, functionName, args } as never) as Promise<unknown>

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-contract-'))
    anvil = await AnvilProcess.start({ dir, chainId: foundry.id })
    publicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl, { retryCount: 0 }) })
    const hash = await wallet().deployContract({ abi: dmtpRegistryAbi, bytecode: dmtpRegistryBytecode })
    address = (await publicClient.waitForTransactionReceipt({ hash })).contractAddress as Hex
  })
  afterAll(async () => {
    await anvil.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  test('default: the deployer owns it; keys and CIDs are stored, read back and announced', async () => {
    expect(await read('owner')).toBe(owner.address)
    const keyReceipt = await write('addKey', [alice, 'bagu-key-alice'])
    expect(await read('getKey', [alice])).toBe('bagu-key-alice')
    const keyEvents = parseEventLogs({ abi: dmtpRegistryAbi, logs: keyReceipt.logs, eventName: 'KeyAdded' })
    expect(keyEvents.map((e) => e.args)).toEqual([{ user: alice, cid: 'bagu-key-alice' }])

    const before = (await read('cidCount')) as bigint
    const cidReceipt = await write('storeCID', ['bagu-manifest-1'])
    const cidEvents = parseEventLogs({ abi: dmtpRegistryAbi, logs: cidReceipt.logs, eventName: 'CIDStored' })
    expect(cidEvents.map((e) => e.args)).toEqual([{ index: before, cid: 'bagu-manifest-1' }])
    expect(await read('cidCount')).toBe(before + 1n)
    expect(await read('getCID', [before])).toBe('bagu-manifest-1')
  })

  test('behavior: addKeys records many wallets in one transaction and replaces older CIDs', async () => {
    const receipt = await write('addKeys', [
      [alice, bob],
      ['bagu-key-alice-2', 'bagu-key-bob'],
    ])
    expect(parseEventLogs({ abi: dmtpRegistryAbi, logs: receipt.logs, eventName: 'KeyAdded' })).toHaveLength(2)
    expect(await read('getKey', [alice])).toBe('bagu-key-alice-2')
    expect(await read('getKey', [bob])).toBe('bagu-key-bob')
    await expect(write('addKeys', [[alice], ['a', 'b']])).rejects.toThrow(/LengthMismatch/)
  })

  test('behavior: getCIDs pages through the list', async () => {
    for (const cid of ['bagu-p-1', 'bagu-p-2', 'bagu-p-3']) await write('storeCID', [cid])
    const count = Number(await read('cidCount'))
    expect(await read('getCIDs', [BigInt(count - 3), 2n])).toEqual(['bagu-p-1', 'bagu-p-2'])
    expect(await read('getCIDs', [BigInt(count - 1), 10n])).toEqual(['bagu-p-3'])
    expect(await read('getCIDs', [BigInt(count + 5), 10n])).toEqual([])
  })

  test('behavior: nobody but the owner can write, and bad input is refused', async () => {
    await expect(write('addKey', [alice, 'bagu-evil'], stranger)).rejects.toThrow(/NotOwner/)
    await expect(write('storeCID', ['bagu-evil'], stranger)).rejects.toThrow(/NotOwner/)
    await expect(write('transferOwnership', [stranger.address], stranger)).rejects.toThrow(/NotOwner/)
    await expect(write('storeCID', [''])).rejects.toThrow(/EmptyCid/)
    await expect(write('addKey', ['0x0000000000000000000000000000000000000000', 'bagu-x'])).rejects.toThrow(/ZeroAddress/)
    expect(await read('getKey', [alice])).not.toBe('bagu-evil')
  })

  test('behavior: ownership moves, and only the new owner can write afterwards', async () => {
    const receipt = await write('transferOwnership', [stranger.address])
    const events = parseEventLogs({ abi: dmtpRegistryAbi, logs: receipt.logs, eventName: 'OwnershipTransferred' })
    expect(events.map((e) => e.args)).toEqual([{ previousOwner: owner.address, newOwner: stranger.address }])
    await expect(write('storeCID', ['bagu-old-owner'])).rejects.toThrow(/NotOwner/)
    await write('storeCID', ['bagu-new-owner'], stranger)
    await write('transferOwnership', [owner.address], stranger)
  })
})

describe('anvil state', () => {
  test('default: the contract and its data survive an anvil restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-anvil-state-'))
    try {
      let anvil = await AnvilProcess.start({ dir, chainId: foundry.id })
      const client = () => createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl, { retryCount: 0 }) })
      const walletClient = () =>
        createWalletClient({ account: owner, chain: foundry, transport: http(anvil.rpcUrl, { retryCount: 0 }) })
      const deploy = await walletClient().deployContract({ abi: dmtpRegistryAbi, bytecode: dmtpRegistryBytecode })
      const address = (await client().waitForTransactionReceipt({ hash: deploy })).contractAddress as Hex
      const store = await walletClient().writeContract({
        address,
        abi: dmtpRegistryAbi,
        functionName: 'storeCID',
        args: ['bagu-persisted'],
      })
      await client().waitForTransactionReceipt({ hash: store })
      await anvil.stop()
      anvil = await AnvilProcess.start({ dir, chainId: foundry.id })
      expect(await client().readContract({ address, abi: dmtpRegistryAbi, functionName: 'getCID', args: [0n] })).toBe(
        'bagu-persisted',
      )
      await anvil.stop()
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
