/**
 * The web app (issue 5), in Debian's Chromium through playwright-core:
 *
 * - `web_bundle_gzip_kb`: the JavaScript index.html loads before anything else (its module script
 *   and modulepreloads), gzipped at zlib's default level, in kB (1,000 bytes). Chunks loaded later
 *   (viem's chain client, for anchoring checks) are not counted.
 * - `web_open_10k_ms`: a conversation of 10,000 messages is opened from the list; the time, in the
 *   page, from the click to the newest message on screen (first page fetched, verified, decrypted,
 *   rendered). Best of `runs` openings, each in a fresh page.
 *
 * The server runs in this process with the app's build as its web root and raised limits, so
 * seeding 10,000 messages (SDK sender, 64 sends in flight) is not throttled.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import { envToConfig, envToSecrets, Server } from '@dmtp/server'
import { generatePrivateKey } from 'viem/accounts'
import { percentile, round } from '../_stats.js'

export const CHROMIUM = process.env.DMTP_CHROMIUM ?? '/usr/bin/chromium'

export type WebResult = {
  bundleGzipKb: number
  bundleFiles: string[]
  /** The median of `openRunsMs`. */
  open10kMs: number
  openRunsMs: number[]
  seedSeconds: number
}

/** packages/web/dist, or undefined when the app is not built. */
export function webDist(): string | undefined {
  try {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.resolve('@dmtp/web/package.json'))), 'dist')
    return fs.existsSync(path.join(dir, 'index.html')) ? dir : undefined
  } catch {
    return undefined
  }
}

/** The initial JavaScript of the built app, gzipped. */
export function bundleSize(dist: string): { kb: number; files: string[] } {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8')
  const files = [
    ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].map((match) => match[1] as string)
  const bytes = files.reduce((sum, file) => sum + gzipSync(fs.readFileSync(path.join(dist, file))).length, 0)
  return { kb: round(bytes / 1000, 1), files }
}

export async function webScenario({ messages, runs }: { messages: number; runs: number }): Promise<WebResult> {
  const dist = webDist()
  if (!dist) throw new Error('packages/web/dist is missing: run `npm run build`')
  const bundle = bundleSize(dist)
  const { chromium } = await import('playwright-core')

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-bench-web-'))
  const env = { DMTP_PORT: 0, DMTP_DATA_DIR: dataDir, DMTP_LOG_LEVEL: 'warn', DMTP_CHAIN: 'none' } as const
  const config = envToConfig(env)
  config.limits.messagesPerSecond = 1_000_000
  config.limits.messageBurst = 1_000_000
  config.limits.requestsPerMinute = 1_000_000
  const server = await Server.create(config, envToSecrets(env, config), { webRoot: dist })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  try {
    const url = await server.start()
    const seedStart = performance.now()
    const senderKey = generatePrivateKey()
    const receiverKey = generatePrivateKey()
    const sender = createClient({ server: url, wallet: privateKeyWallet(senderKey), crypto: nodeCryptoBackend })
    const receiver = createClient({ server: url, wallet: privateKeyWallet(receiverKey), crypto: nodeCryptoBackend })
    await Promise.all([sender.setup(), receiver.setup()])
    const senderAddress = (await sender.getWallet()).address
    const receiverAddress = (await receiver.getWallet()).address
    let next = 0
    const worker = async () => {
      while (next < messages) {
        const n = ++next
        await sender.send(receiverAddress, `message ${n} of ${messages}`)
      }
    }
    await Promise.all(Array.from({ length: 64 }, worker))
    const seedSeconds = round((performance.now() - seedStart) / 1000, 1)
    const newest = `message ${messages} of ${messages}`

    const openRunsMs: number[] = []
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 760 } })
      await context.addInitScript((key) => {
        localStorage.setItem('dmtp:web:local-wallet-key', key)
        localStorage.setItem('dmtp:web:wallet', 'local')
      }, receiverKey)
      const page = await context.newPage()
      await page.goto(`${url}/`)
      await page.locator(`button.conversation[data-peer="${senderAddress}"]`).waitFor({ timeout: 60_000 })
      const ms = await page.evaluate(
        ({ peer, text }) =>
          new Promise<number>((resolve, reject) => {
            const button = document.querySelector<HTMLButtonElement>(`button.conversation[data-peer="${peer}"]`)
            if (!button) return reject(new Error('no conversation button'))
            const start = performance.now()
            button.click()
            const poll = () => {
              for (const article of Array.from(document.querySelectorAll('article.message'))) {
                const box = article.getBoundingClientRect()
                if (article.textContent?.includes(text) && box.height > 0 && box.bottom > 0 && box.bottom <= window.innerHeight)
                  return resolve(performance.now() - start)
              }
              if (performance.now() - start > 30_000) return reject(new Error('the newest message never appeared'))
              requestAnimationFrame(poll)
            }
            requestAnimationFrame(poll)
          }),
        { peer: senderAddress, text: newest },
      )
      openRunsMs.push(round(ms, 0))
      await context.close()
    }
    return {
      bundleGzipKb: bundle.kb,
      bundleFiles: bundle.files,
      open10kMs: percentile(
        openRunsMs.slice().sort((a, b) => a - b),
        50,
      ),
      openRunsMs,
      seedSeconds,
    }
  } finally {
    await browser.close()
    await server.destroy()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}
