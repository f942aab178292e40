/**
 * Two people with local test wallets, each in their own browser profile: set up, chat both ways
 * live, reload without losing the session or the history, and see the connection-lost state while
 * the server is down.
 */
import http from 'node:http'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { TestServer } from '../../server/test/_util.js'
import { ensureBuilt, hasChromium, launch, message, newLocalUser, newPage, PHONE, screenshot, sendMessage } from './_util.js'

describe.skipIf(!hasChromium)('web app: local wallets', () => {
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

  test('default: two browsers set up and chat in real time both ways; reload keeps it; connection lost and back', async () => {
    const alice = await newPage(browser)
    const bob = await newPage(browser)

    await alice.page.goto(`${server.url}/`)
    await alice.page.getByRole('heading', { name: 'Connect a wallet' }).waitFor()
    await screenshot(alice.page, '01-connect')

    const aliceAddress = await newLocalUser(alice.page, server.url)
    const bobAddress = await newLocalUser(bob.page, server.url)
    expect(aliceAddress).not.toBe(bobAddress)
    await screenshot(alice.page, '02-empty')

    // Alice → Bob, live, by keyboard only.
    await tabTo(alice.page, 'new-chat-address')
    await alice.page.keyboard.type(bobAddress)
    await alice.page.keyboard.press('Enter')
    await alice.page.getByRole('heading', { level: 2, name: new RegExp(bobAddress.slice(0, 6)) }).waitFor()
    await tabTo(alice.page, 'message-input')
    await sendMessage(alice.page, 'Hello Bob, this is Alice')
    await message(alice.page, 'Hello Bob, this is Alice').getByText('End-to-end encrypted', { exact: true }).waitFor()
    const bobConversation = bob.page.locator(`button.conversation[data-peer="${aliceAddress}"]`)
    await bobConversation.getByTestId('unread').waitFor()
    expect(await bobConversation.getByTestId('unread').innerText()).toMatch(/^1/)
    await screenshot(bob.page, '03-unread')
    await bobConversation.click()
    await message(bob.page, 'Hello Bob, this is Alice').waitFor()
    // Read once on screen.
    await bobConversation.getByTestId('unread').waitFor({ state: 'detached' })

    // Bob → Alice, live: it appears in Alice's open chat without a reload.
    await sendMessage(bob.page, 'Hi Alice! Got it.')
    await message(alice.page, 'Hi Alice! Got it.').waitFor({ timeout: 10_000 })
    await sendMessage(alice.page, 'Line one\nand a second line, with a long tail of text to wrap across the bubble width')
    await message(bob.page, 'and a second line').waitFor({ timeout: 10_000 })
    await screenshot(alice.page, '04-chat')

    // Per-message details: encryption and anchoring (this server has no chain).
    await message(bob.page, 'Hello Bob')
      .getByRole('button', { name: /anchor/i })
      .click()
    await bob.page.getByText('Message CID').waitFor()
    await screenshot(bob.page, '05-details')

    // Reload: same wallet, same session, the history is still there.
    await bob.page.reload()
    await bob.page.getByTestId('my-address').waitFor({ timeout: 20_000 })
    await message(bob.page, 'Hi Alice! Got it.').waitFor()
    await message(bob.page, 'Hello Bob, this is Alice').waitFor()
    expect(await bob.page.getByTestId('my-address').getAttribute('title')).toBe(bobAddress)

    // The server goes away: both see it, and it clears when the server is back.
    await server.stop()
    await alice.page.getByText(/Connection lost/).waitFor({ timeout: 15_000 })
    await screenshot(alice.page, '06-connection-lost')
    await server.restart()
    await alice.page.getByText(/Connection lost/).waitFor({ state: 'hidden', timeout: 20_000 })
    await sendMessage(bob.page, 'Back online')
    await message(alice.page, 'Back online').waitFor({ timeout: 15_000 })

    // Phone width: one pane at a time, still usable.
    await alice.page.setViewportSize(PHONE)
    await screenshot(alice.page, '07-phone-chat')
    await alice.page.getByRole('button', { name: 'Back to conversations' }).click()
    await alice.page.locator('button.conversation').first().waitFor()
    await screenshot(alice.page, '08-phone-list')

    expect(alice.errors).toEqual([])
    expect(bob.errors).toEqual([])
    await alice.context.close()
    await bob.context.close()
  }, 120_000)

  test('behavior: the server serves the app at / and client routes, and never shadows the API', async () => {
    const home = await fetch(`${server.url}/`)
    expect(home.status).toBe(200)
    expect(await home.text()).toContain('<div id="root">')
    const route = await fetch(`${server.url}/chat/0x0000000000000000000000000000000000000001`)
    expect(route.status).toBe(200)
    expect(route.headers.get('cache-control')).toBe('no-cache')
    const api = await fetch(`${server.url}/v1/nope`)
    expect(api.status).toBe(404)
    expect(await api.json()).toEqual({ error: { code: 'not_found', message: 'No route GET /v1/nope' } })
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    expect((await fetch(`${server.url}/ipfs/nope`)).status).toBe(400)
    // A path that climbs out of the web root gets the app, not the file.
    const climb = await rawGet(`${server.url}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`)
    expect(climb.status).toBe(200)
    expect(climb.body).toContain('<div id="root">')
  })
})

/** Presses Tab until the element with this id has focus (fails after 40 presses). */
async function tabTo(page: Page, id: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return
    await page.keyboard.press('Tab')
  }
  throw new Error(`#${id} cannot be reached with Tab`)
}

/** A GET that sends the path as written (fetch would normalize the dot segments away). */
function rawGet(url: string): Promise<{ status: number; body: string }> {
  const { host, pathname } = new URL(url.replace(/%2e/g, 'DOT'))
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: host.split(':')[0], port: host.split(':')[1], path: pathname.replace(/DOT/g, '%2e') },
      (response) => {
        let body = ''
        response.on('data', (chunk) => {
          body += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      },
    )
    request.on('error', reject)
  })
}
