/**
 * A test server on an anvil of the test's own (`DMTP_CHAIN=rpc`), which the test can stop and
 * start again on the same state: the chain going down and coming back, for the server and for
 * every client reading it.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createTestClient, http } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { AnvilProcess } from '../src/ports/chain/anvil-process.js'
import { freePort } from './_server-process.js'
import { type DialectName, TestServer, type TestServerOptions } from './_util.js'

export type OwnChainServer = {
  server: TestServer
  stopChain(): Promise<void>
  startChain(): Promise<void>
} & AsyncDisposable

export async function serverOnOwnChain(
  dialect: DialectName,
  configure?: TestServerOptions['configure'],
): Promise<OwnChainServer> {
  const chainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-own-chain-'))
  const port = await freePort()
  let anvil = await AnvilProcess.start({ dir: chainDir, chainId: 31337, port })
  const operatorKey = generatePrivateKey()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-own-chain-data-'))
  fs.writeFileSync(path.join(dataDir, 'operator.key'), operatorKey)
  await createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl, { retryCount: 0 }) }).setBalance({
    address: privateKeyToAccount(operatorKey).address,
    value: 10n ** 21n,
  })
  const server = await TestServer.create({
    dialect,
    dataDir,
    configure: (c) => {
      c.chain = { provider: 'rpc', url: anvil.rpcUrl, publicRpcUrl: undefined, registry: undefined }
      configure?.(c)
    },
  })
  return {
    server,
    stopChain: () => anvil.stop(),
    startChain: async () => {
      anvil = await AnvilProcess.start({ dir: chainDir, chainId: 31337, port })
    },
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]()
      await anvil.stop()
      fs.rmSync(chainDir, { recursive: true, force: true })
    },
  }
}
