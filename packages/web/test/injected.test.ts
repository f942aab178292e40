/**
 * The injected-wallet path: an EIP-1193 provider in the page (as an extension would add), backed
 * by a real key in the test, with eth_getEncryptionPublicKey / eth_decrypt. Setup wraps the keys
 * with the wallet's encryption key; a reload unlocks them with eth_decrypt.
 */
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import type { Browser } from 'playwright-core'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { TestServer, waitFor } from '../../server/test/_util.js'
import { ensureBuilt, hasChromium, injectWallet, launch, message, newPage, openChat, screenshot, sendMessage } from './_util.js'

describe.skipIf(!hasChromium)('web app: injected EIP-1193 wallet', () => {
  let browser: Browser
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ webRoot: ensureBuilt() })
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.[Symbol.asyncDispose]()
  })

  test('default: set up with the wallet’s encryption key, chat with an SDK user, unlock with eth_decrypt after a reload', async () => {
    const { context, page, errors } = await newPage(browser)
    const wallet = await injectWallet(context, generatePrivateKey())
    const carol = createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
    await carol.setup()
    const carolAddress = (await carol.getWallet()).address

    await page.goto(`${server.url}/`)
    await page.getByRole('button', { name: 'Connect browser wallet' }).click()
    await page.getByRole('heading', { name: 'Set up DMTP' }).waitFor()
    await screenshot(page, '20-injected-setup')
    await page.getByRole('button', { name: 'Set up with wallet' }).click()
    await page.getByTestId('my-address').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('my-address').getAttribute('title')).toBe(wallet.address)
    expect(wallet.calls).toContain('eth_getEncryptionPublicKey')
    expect(wallet.calls).toContain('personal_sign')
    expect((await carol.whois(wallet.address)).registered).toBe(true)

    // Both ways with a CLI/SDK user.
    await openChat(page, carolAddress)
    await sendMessage(page, 'From an injected wallet')
    const inbox = await waitFor(async () => {
      const page = await carol.messages(wallet.address)
      return page.messages.find((m) => m.text === 'From an injected wallet')
    }, 10_000)
    expect(inbox).toMatchObject({ e2ee: true, status: 'ok' })
    await carol.send(wallet.address, 'Hello from the SDK')
    await message(page, 'Hello from the SDK').waitFor({ timeout: 10_000 })

    // A reload unlocks the same keys through eth_decrypt (the wallet's prompt, in a real wallet).
    const before = wallet.calls.length
    await page.reload()
    await page.getByRole('heading', { name: 'Unlock DMTP' }).waitFor({ timeout: 15_000 })
    await screenshot(page, '21-injected-unlock')
    await page.getByRole('button', { name: 'Unlock with wallet' }).click()
    await page.getByTestId('my-address').waitFor({ timeout: 30_000 })
    expect(wallet.calls.slice(before)).toContain('eth_decrypt')
    await message(page, 'Hello from the SDK').waitFor()
    await message(page, 'From an injected wallet').waitFor()
    expect(errors).toEqual([])
    await context.close()
  }, 120_000)

  test('behavior: a wallet without eth_getEncryptionPublicKey uses the signature-derived scheme, and unlocks by signing', async () => {
    const { context, page, errors } = await newPage(browser)
    const wallet = await injectWallet(context, generatePrivateKey(), { encryption: false })
    await page.goto(`${server.url}/`)
    await page.getByRole('button', { name: 'Connect browser wallet' }).click()
    await page.getByRole('button', { name: 'Set up with wallet' }).click()
    await page.getByTestId('my-address').waitFor({ timeout: 30_000 })
    const bundle = await createClient({ server: server.url }).whois(wallet.address)
    expect(bundle.registered && bundle.bundle.DMTPpriKey.scheme).toBe('eip191-hkdf-aes256gcm')
    await page.reload()
    await page.getByRole('button', { name: 'Unlock with wallet' }).click()
    await page.getByTestId('my-address').waitFor({ timeout: 30_000 })
    expect(wallet.calls).not.toContain('eth_decrypt')
    expect(errors).toEqual([])
    await context.close()
  })

  test('behavior: declining in the wallet is said in words, and nothing is registered', async () => {
    const { context, page } = await newPage(browser)
    const wallet = await injectWallet(context, generatePrivateKey(), { declineSigning: true })
    await page.goto(`${server.url}/`)
    await page.getByRole('button', { name: 'Connect browser wallet' }).click()
    await page.getByRole('button', { name: 'Set up with wallet' }).click()
    await page.getByRole('alert').getByText('You declined the request in your wallet. Nothing was sent or changed.').waitFor()
    await screenshot(page, '22-injected-declined')
    expect((await createClient({ server: server.url }).whois(wallet.address)).registered).toBe(false)
    await context.close()
  })
})
