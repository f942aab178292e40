/**
 * A 10,000-message conversation: opening it shows the newest message, and scrolling back through
 * older pages keeps the DOM small (the list is windowed). How fast it opens is measured by
 * `npm run bench` (`web_open_10k_ms`, target 1.5 s), not asserted here: a test run shares the
 * machine with other suites.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { TestServer } from '../../server/test/_util.js'
import {
  ensureBuilt,
  hasChromium,
  launch,
  newPage,
  screenshot,
  seedConversation,
  timeOpenConversation,
  useLocalKey,
} from './_util.js'

const MESSAGES = 10_000

describe.skipIf(!hasChromium)('web app: long history', () => {
  let browser: Browser
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({
      webRoot: ensureBuilt(),
      configure: (config) => {
        // Seeding sends 10,000 messages at once; the defaults protect a public server from that.
        config.limits.messagesPerSecond = 1_000_000
        config.limits.messageBurst = 1_000_000
        config.limits.requestsPerMinute = 1_000_000
      },
    })
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.[Symbol.asyncDispose]()
  })

  test('default: opens a 10,000-message conversation at its newest message and windows the list', async () => {
    const seeded = await seedConversation(server.url, MESSAGES)
    const { context, page, errors } = await newPage(browser)
    await useLocalKey(context, seeded.receiverKey)
    await page.goto(`${server.url}/`)
    const ms = await timeOpenConversation(page, seeded.senderAddress, seeded.newest)
    console.log(`[web] newest of ${MESSAGES} messages visible ${Math.round(ms)} ms after opening the conversation`)
    await screenshot(page, '30-history-10k')

    // Scroll back through several pages: more messages loaded, about the same number of rows in the DOM.
    const list = page.getByRole('region', { name: /Messages with/ })
    for (let i = 0; i < 6; i++) {
      await list.evaluate((element) => {
        element.scrollTop = 0
      })
      await page.waitForTimeout(250)
    }
    const loaded = await page.locator('.vrow').first().getAttribute('aria-setsize')
    expect(Number(loaded)).toBeGreaterThan(200)
    expect(await page.locator('.vrow').count()).toBeLessThan(80)
    await screenshot(page, '31-history-older')
    expect(errors).toEqual([])
    await context.close()
  }, 180_000)
})
