/**
 * Pattern β from the browser, on a server that anchors (anvil): Alice writes to a wallet that has
 * not set up DMTP, sees plainly that the message is not end-to-end encrypted yet and why; once Bob
 * sets up in his browser, both see it end-to-end encrypted. Anchoring is checked against the chain.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { TestServer } from '../../server/test/_util.js'
import {
  chooseLocalWallet,
  ensureBuilt,
  finishSetup,
  hasChromium,
  launch,
  message,
  newLocalUser,
  newPage,
  openChat,
  screenshot,
  sendMessage,
} from './_util.js'

describe.skipIf(!hasChromium)('web app: pattern β', () => {
  let browser: Browser
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ webRoot: ensureBuilt(), chain: true })
    browser = await launch()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.[Symbol.asyncDispose]()
  })

  test('default: warned while relayed, end-to-end once the receiver sets up', async () => {
    const alice = await newPage(browser)
    const bob = await newPage(browser)
    await newLocalUser(alice.page, server.url)
    // Bob has a wallet but has not set up DMTP yet.
    const bobAddress = await chooseLocalWallet(bob.page, server.url)

    await openChat(alice.page, bobAddress)
    await alice.page.getByTestId('peer-unregistered').waitFor()
    await alice.page.getByText(/has not set up DMTP: what you send now is encrypted to the server/).waitFor()
    await sendMessage(alice.page, 'Sent before Bob set up')
    const relayed = message(alice.page, 'Sent before Bob set up')
    await relayed.getByText('Not yet end-to-end encrypted', { exact: true }).waitFor()
    await relayed.getByText(/had not set up DMTP when you sent this/).waitFor()
    expect(await relayed.getAttribute('data-e2ee')).toBe('false')
    await alice.page.getByRole('status').filter({ hasText: 'has not set up DMTP yet' }).waitFor()
    await screenshot(alice.page, '10-relay-warning')

    // Bob sets up: the relayed message is migrated to end-to-end during setup.
    await finishSetup(bob.page)
    await bob.page.locator('button.conversation').first().click()
    const received = message(bob.page, 'Sent before Bob set up')
    await received.getByText('End-to-end encrypted', { exact: true }).waitFor({ timeout: 20_000 })
    expect(await received.getAttribute('data-status')).toBe('ok')

    // Alice's view follows without a reload.
    await relayed.getByText('End-to-end encrypted', { exact: true }).waitFor({ timeout: 20_000 })
    await alice.page.getByTestId('fingerprint').waitFor()
    await screenshot(alice.page, '11-relay-migrated')

    // Chat goes on end to end, and the browser checks anchoring against the chain.
    await sendMessage(bob.page, 'Now end to end')
    await message(alice.page, 'Now end to end').getByText('End-to-end encrypted', { exact: true }).waitFor()
    await alice.page.getByRole('button', { name: 'Check anchoring' }).click()
    await message(alice.page, 'Now end to end')
      .getByRole('button', { name: /Anchoring pending|Anchored/ })
      .waitFor()
    // The server anchors; checked again, the message is anchored at a block, said on click.
    await server.ctx.anchoring.syncNow()
    await alice.page.getByRole('button', { name: 'Check anchoring' }).click()
    const anchored = message(alice.page, 'Now end to end').getByRole('button', { name: 'Anchored', exact: true })
    await anchored.waitFor({ timeout: 20_000 })
    await anchored.click()
    await alice.page.getByText(/Anchored at block \d+/).waitFor({ timeout: 10_000 })
    await alice.page.getByText('Matches the history anchored on chain.').waitFor()
    await screenshot(alice.page, '12-anchored')
    expect(alice.errors).toEqual([])
    expect(bob.errors).toEqual([])
    await alice.context.close()
    await bob.context.close()
  }, 120_000)
})
