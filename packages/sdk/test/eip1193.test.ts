import {
  bytesToUtf8,
  decryptWithWalletKey,
  getEncryptionPublicKey,
  hexToBytes,
  KeyUnlockFailedError,
  unwrapDmtpKeys,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { createClient, type Eip1193Provider, fromEip1193 } from '../src/index.js'
import { DIALECTS, newClient, TestServer } from './_util.js'

/**
 * An injected-wallet stand-in that signs with a real key, the way MetaMask answers these methods.
 * `encryption: false` answers eth_getEncryptionPublicKey like a wallet that does not support it.
 */
function testProvider(key: `0x${string}`, { encryption }: { encryption: boolean }) {
  const account = privateKeyToAccount(key)
  const calls: string[] = []
  const provider: Eip1193Provider = {
    async request({ method, params }) {
      calls.push(method)
      const args = (params ?? []) as string[]
      switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return [account.address]
        case 'personal_sign':
          if (args[1]?.toLowerCase() !== account.address.toLowerCase())
            throw Object.assign(new Error('wrong account'), { code: 4100 })
          return account.signMessage({ message: { raw: args[0] as `0x${string}` } })
        case 'eth_getEncryptionPublicKey':
          if (!encryption) throw Object.assign(new Error('The method does not exist'), { code: -32601 })
          return getEncryptionPublicKey(key)
        case 'eth_decrypt': {
          if (!encryption) throw Object.assign(new Error('The method does not exist'), { code: -32601 })
          const data = JSON.parse(bytesToUtf8(hexToBytes(args[0] as string)))
          return decryptWithWalletKey({ encryptedData: data, privateKey: key })
        }
        default:
          throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 })
      }
    },
  }
  return { provider, calls, address: account.address }
}

describe.each(DIALECTS)('EIP-1193 wallets (%s)', (dialect) => {
  test('default: eth_getEncryptionPublicKey / eth_decrypt are used when the wallet has them', async () => {
    await using server = await TestServer.create({ dialect })
    const key = generatePrivateKey()
    const wallet = testProvider(key, { encryption: true })
    const client = createClient({ server: server.url, wallet: wallet.provider })
    expect(await client.setup()).toMatchObject({ created: true, scheme: 'x25519-xsalsa20-poly1305' })

    const bob = newClient(server.url)
    await bob.setup()
    await bob.send(wallet.address, 'via an injected wallet')

    const fresh = testProvider(key, { encryption: true })
    const newDevice = createClient({ server: server.url, wallet: fresh.provider })
    const page = await newDevice.messages((await bob.getWallet()).address)
    expect(page.messages[0]).toMatchObject({ text: 'via an injected wallet', status: 'ok' })
    expect(fresh.calls).toContain('eth_decrypt')
  })

  test('behavior: a wallet without eth_decrypt falls back to the signature scheme', async () => {
    await using server = await TestServer.create({ dialect })
    const key = generatePrivateKey()
    const wallet = testProvider(key, { encryption: false })
    const client = createClient({ server: server.url, wallet: wallet.provider })
    expect(await client.setup()).toMatchObject({ created: true, scheme: 'eip191-hkdf-aes256gcm' })
    expect(wallet.calls).not.toContain('eth_decrypt')

    const again = createClient({ server: server.url, wallet: testProvider(key, { encryption: false }).provider })
    expect(await again.setup()).toMatchObject({ created: false, scheme: 'eip191-hkdf-aes256gcm' })
  })

  test('behavior: another wallet cannot unlock the keys the server hands out', async () => {
    await using server = await TestServer.create({ dialect })
    const owner = testProvider(generatePrivateKey(), { encryption: true })
    await createClient({ server: server.url, wallet: owner.provider }).setup()
    const bundle = (await (await fetch(`${server.url}/v1/keys/${owner.address}`)).json()).bundle
    const impostor = await fromEip1193(testProvider(generatePrivateKey(), { encryption: true }).provider)
    await expect(
      unwrapDmtpKeys(nodeCryptoBackend, { encrypted: bundle.DMTPpriKey, wallet: { ...impostor, address: owner.address } }),
    ).rejects.toBeInstanceOf(KeyUnlockFailedError)
  })
})
