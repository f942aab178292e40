/**
 * Browser test harness: Debian's Chromium driven by playwright-core, against the real server
 * serving the built app (packages/web/dist, built here when missing). When Chromium is not
 * installed, the suites skip and say why (.ci/run installs it).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bytesToUtf8, decryptWithWalletKey, getEncryptionPublicKey, hexToBytes } from '@dmtp/protocol'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { privateKeyToAccount } from 'viem/accounts'
import { expect } from 'vitest'

export const CHROMIUM = process.env.DMTP_CHROMIUM ?? '/usr/bin/chromium'
export const hasChromium = fs.existsSync(CHROMIUM)
if (!hasChromium) {
  console.warn(
    `[dmtp web tests] SKIPPED: no Chromium at ${CHROMIUM}. Install it (apt-get install -y chromium; .ci/run does) or set DMTP_CHROMIUM.`,
  )
}

export const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url))
export const SCREENSHOTS = fileURLToPath(new URL('./screenshots', import.meta.url))

/**
 * The built app; `npm test` builds first, a lone `vitest run --project web` builds it here (also
 * when a source file is newer than the build).
 */
export function ensureBuilt(): string {
  const built = fs.statSync(path.join(WEB_ROOT, 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0
  const src = fileURLToPath(new URL('../src', import.meta.url))
  const newest = Math.max(
    ...fs.readdirSync(src, { recursive: true, encoding: 'utf8' }).map((file) => fs.statSync(path.join(src, file)).mtimeMs),
  )
  if (built < newest) {
    const vite = fileURLToPath(new URL('../../../node_modules/vite/bin/vite.js', import.meta.url))
    // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
    execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, NODE_ENV: 'production' },
    })
  }
  return WEB_ROOT
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}

export const DESKTOP = { width: 1100, height: 760 }
export const PHONE = { width: 390, height: 780 }

/** A fresh browser profile (its own localStorage), with page errors collected. */
export async function newPage(
  browser: Browser,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  return { context, page, errors }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) })
}

/** Chooses the local test wallet; returns its address (shown on the setup screen). */
export async function chooseLocalWallet(page: Page, url: string): Promise<string> {
  await page.goto(`${url}/`)
  await page.getByRole('button', { name: /local test wallet/i }).click()
  const address = page.getByTestId('wallet-address')
  await address.waitFor({ timeout: 15_000 })
  const value = (await address.getAttribute('title')) as string
  expect(value).toMatch(/^0x[0-9a-fA-F]{40}$/)
  return value
}

/** Sets up (or unlocks) from the setup screen and waits for the chat screen. */
export async function finishSetup(page: Page): Promise<void> {
  await page.getByRole('button', { name: /(set up|unlock) with wallet/i }).click()
  await page.getByTestId('my-address').waitFor({ timeout: 30_000 })
}

export async function newLocalUser(page: Page, url: string): Promise<string> {
  const address = await chooseLocalWallet(page, url)
  await finishSetup(page)
  return address
}

export async function openChat(page: Page, address: string): Promise<void> {
  await page.getByLabel('Start a chat with').fill(address)
  await page.getByRole('button', { name: 'Chat', exact: true }).click()
  await page.getByRole('heading', { level: 2, name: new RegExp(address.slice(0, 6)) }).waitFor()
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.keyboard.press('Enter')
  await expect.poll(() => page.getByLabel('Message', { exact: true }).inputValue(), { timeout: 15_000 }).toBe('')
}

/** The message bubble holding `text`. */
export function message(page: Page, text: string) {
  return page.locator('article.message', { hasText: text })
}

/**
 * Injects an EIP-1193 provider into the page, as a wallet extension would, backed by a real key
 * held by the test (Node): personal_sign with viem, eth_getEncryptionPublicKey / eth_decrypt with
 * the protocol's MetaMask-compatible x25519-xsalsa20-poly1305 code. Returns the methods called.
 */
export async function injectWallet(
  context: BrowserContext,
  key: `0x${string}`,
  { declineSigning = false, encryption = true }: { declineSigning?: boolean; encryption?: boolean } = {},
): Promise<{ address: string; calls: string[] }> {
  const account = privateKeyToAccount(key)
  const calls: string[] = []
  await context.exposeFunction('__dmtpTestWallet', async (method: string, params: unknown[]) => {
    calls.push(method)
    const args = (params ?? []) as string[]
    // The person clicks "Reject" in the wallet (EIP-1193 code 4001).
    if (declineSigning && method === 'personal_sign') return { error: { code: 4001, message: 'User rejected the request.' } }
    // A wallet without the (deprecated) encryption methods answers like MetaMask does for unknown ones.
    if (!encryption && (method === 'eth_getEncryptionPublicKey' || method === 'eth_decrypt'))
      return { error: { code: -32601, message: 'The method does not exist / is not available' } }
    try {
      switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return { result: [account.address] }
        case 'eth_chainId':
          return { result: '0x7a69' }
        case 'personal_sign':
          if (args[1]?.toLowerCase() !== account.address.toLowerCase()) return { error: { code: 4100, message: 'wrong account' } }
          return { result: await account.signMessage({ message: { raw: args[0] as `0x${string}` } }) }
        case 'eth_getEncryptionPublicKey':
          return { result: getEncryptionPublicKey(key) }
        case 'eth_decrypt': {
          const data = JSON.parse(bytesToUtf8(hexToBytes(args[0] as string)))
          return { result: await decryptWithWalletKey({ encryptedData: data, privateKey: key }) }
        }
        default:
          return { error: { code: 4200, message: `unsupported method ${method}` } }
      }
    } catch (error) {
      return { error: { code: -32603, message: (error as Error).message } }
    }
  })
  await context.addInitScript(() => {
    const bridge = (window as unknown as { __dmtpTestWallet: (m: string, p: unknown) => Promise<any> }).__dmtpTestWallet
    ;(window as unknown as { ethereum: unknown }).ethereum = {
      isTestWallet: true,
      async request({ method, params }: { method: string; params?: unknown }) {
        const answer = await bridge(method, params ?? [])
        if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code })
        return answer.result
      },
    }
  })
  return { address: account.address, calls }
}

/**
 * A conversation of `count` messages from a Node SDK user to a wallet whose key the browser gets
 * as its local wallet (set up already, so the app unlocks it without a click). Sent concurrently.
 */
export async function seedConversation(server: string, count: number, concurrency = 16) {
  const { createClient, privateKeyWallet } = await import('@dmtp/sdk')
  const { nodeCryptoBackend } = await import('@dmtp/protocol/node')
  const { generatePrivateKey } = await import('viem/accounts')
  const senderKey = generatePrivateKey()
  const receiverKey = generatePrivateKey()
  const sender = createClient({ server, wallet: privateKeyWallet(senderKey), crypto: nodeCryptoBackend })
  const receiver = createClient({ server, wallet: privateKeyWallet(receiverKey), crypto: nodeCryptoBackend })
  await Promise.all([sender.setup(), receiver.setup()])
  const senderAddress = (await sender.getWallet()).address
  const receiverAddress = (await receiver.getWallet()).address
  let next = 0
  const worker = async () => {
    while (next < count) {
      const n = ++next
      await sender.send(receiverAddress, `message ${n} of ${count}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { senderAddress, receiverAddress, receiverKey, newest: `message ${count} of ${count}` }
}

/** Makes the page's local wallet this key (before the app loads). */
export async function useLocalKey(context: BrowserContext, key: string): Promise<void> {
  await context.addInitScript((value) => {
    if (!localStorage.getItem('dmtp:web:local-wallet-key')) {
      localStorage.setItem('dmtp:web:local-wallet-key', value)
      localStorage.setItem('dmtp:web:wallet', 'local')
    }
  }, key)
}

/**
 * Opens the conversation with `peer` from the list and measures, in the page, the time from the
 * click to the newest message being on screen.
 */
export async function timeOpenConversation(page: Page, peer: string, newest: string): Promise<number> {
  await page.locator(`button.conversation[data-peer="${peer}"]`).waitFor({ timeout: 30_000 })
  return page.evaluate(
    ({ peer, newest }) =>
      new Promise<number>((resolve, reject) => {
        const button = document.querySelector<HTMLButtonElement>(`button.conversation[data-peer="${peer}"]`)
        if (!button) return reject(new Error('no conversation button'))
        const start = performance.now()
        button.click()
        const deadline = start + 30_000
        const poll = () => {
          for (const article of document.querySelectorAll('article.message')) {
            const box = article.getBoundingClientRect()
            if (article.textContent?.includes(newest) && box.height > 0 && box.bottom <= window.innerHeight && box.bottom > 0)
              return resolve(performance.now() - start)
          }
          if (performance.now() > deadline) return reject(new Error('the newest message never appeared'))
          requestAnimationFrame(poll)
        }
        requestAnimationFrame(poll)
      }),
    { peer, newest },
  )
}
