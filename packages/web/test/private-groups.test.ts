/**
 * Private groups in the browser, against wallets driven through the SDK: an invitation accepted
 * (and another declined) from the room list; the room's E2EE state and key epoch; each message
 * marked end-to-end encrypted or, sent in plaintext where the group allows it, not; a join request
 * approved from the members panel; and the banner when the server is caught showing members
 * different membership logs (an entry this browser verified, rewritten in the database).
 */

import { type LogEntry, toBlock } from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import type { Browser, Page } from 'playwright-core'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { TestServer } from '../../server/test/_util.js'
import { ensureBuilt, hasChromium, launch, newLocalUser, newPage, screenshot } from './_util.js'

const bubble = (page: Page, text: string) =>
  page.locator('article.message').filter({ has: page.locator('p.text', { hasText: text }) })
const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`

async function sdkUser(url: string) {
  const client = createClient({ server: url, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
  await client.setup()
  return Object.assign(client, { address: (await client.getWallet()).address })
}

describe.skipIf(!hasChromium)('web app: private groups', () => {
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

  test('default: invitations, E2EE state and epoch, a lock per message, a join request approved, the fork banner', async () => {
    const { context, page, errors } = await newPage(browser)
    const address = await newLocalUser(page, server.url)
    const [bob, carol] = [await sdkUser(server.url), await sdkUser(server.url)]

    // Bob's two private groups invite this browser's wallet: one is declined, one joined.
    const { room: spam } = await bob.rooms.create({ type: 'private', name: 'Spam' })
    const { room } = await bob.rooms.create({ type: 'private', name: 'Core team', plain: true })
    await bob.rooms.invite(spam.id, [address])
    // An invitation made while away is in the list when it loads; one made now arrives live.
    await page.reload()
    const invitations = page.getByRole('region', { name: 'Invitations' })
    await invitations.getByRole('button', { name: 'Join Spam' }).waitFor()
    await page.locator('[role="status"][data-state="connected"]').waitFor({ state: 'attached' })
    await bob.rooms.invite(room.id, [address], { expiresInMs: 3_600_000 })
    await invitations.getByRole('button', { name: 'Join Core team' }).waitFor()
    expect(await invitations.locator(`[data-room="${room.id}"]`).getByTestId('invitation-until').textContent()).toMatch(
      /^ until /,
    )
    await screenshot(page, '60-invitations')
    await invitations.getByRole('button', { name: 'Decline Spam' }).click()
    await invitations.getByRole('button', { name: 'Decline Spam' }).waitFor({ state: 'detached' })
    expect((await bob.rooms.members(spam.id, { status: 'invited' })).members).toEqual([])
    await invitations.getByRole('button', { name: 'Join Core team' }).click()
    await page.getByRole('heading', { level: 2, name: 'Core team' }).waitFor()

    // Bob writes once under the group's key and once in plaintext, which this group allows.
    await bob.send(room.id, 'the secret plan')
    await bob.send(room.id, 'lunch at noon', { plain: true })
    const { epoch } = (await bob.rooms.keys(room.id)).encryption
    await page.getByTestId('room-encryption').getByText(`end-to-end encrypted (key epoch ${epoch})`).waitFor()
    await page.getByText('Members may still send a message in plaintext, marked so.').waitFor()
    await bubble(page, 'the secret plan').getByTestId('message-encryption').getByText('End-to-end encrypted').waitFor()
    await bubble(page, 'lunch at noon')
      .getByTestId('message-encryption')
      .getByText('Not end-to-end encrypted: the server can read it')
      .waitFor()
    expect(await bubble(page, 'the secret plan').getAttribute('data-e2ee')).toBe('true')
    expect(await bubble(page, 'lunch at noon').getAttribute('data-e2ee')).toBe('false')
    await screenshot(page, '61-private-group')

    // Made an Admin, this wallet lets Carol in from the members panel.
    await bob.rooms.setRole(room.id, [address], 'admin')
    expect(await carol.rooms.join(room.id)).toMatchObject({ membership: { status: 'requested' } })
    await page.getByRole('button', { name: 'Members', exact: true }).click()
    const requests = page.getByRole('region', { name: 'Requests to join' })
    await requests.getByRole('button', { name: `Let in ${short(carol.address)}` }).click()
    await requests.waitFor({ state: 'detached' })
    expect((await carol.rooms.get(room.id)).membership.status).toBe('member')
    await page
      .getByTestId('key-state')
      .getByText(/^On, key epoch \d+/)
      .waitFor()

    // The operator rewrites the newest log entry; the next one links to the rewritten entry.
    expect(await page.getByTestId('fork').count()).toBe(0)
    const db = server.ctx.database.db
    const row = await db
      .selectFrom('messages')
      .select(['id', 'envelope'])
      .where('room_id', '=', room.id)
      .where('kind', '=', 'log')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow()
    const entry = JSON.parse(row.envelope) as LogEntry
    const block = toBlock({ ...entry, event: { ...entry.event, at: new Date(Date.parse(entry.event.at) + 1).toISOString() } })
    await db.updateTable('messages').set({ envelope: block.text, cid: block.cid }).where('id', '=', row.id).execute()
    await db.updateTable('rooms').set({ log_head: block.cid }).where('id', '=', room.id).execute()
    server.ctx.roomCache.clear()
    await bob.rooms.invite(room.id, [(await sdkUser(server.url)).address])
    const banner = page.getByTestId('fork')
    await banner.getByText('The server shows members different member lists.').waitFor()
    await banner.getByText(`Their log: entry ${entry.index}, ${block.cid}.`, { exact: false }).waitFor()
    await screenshot(page, '62-fork-banner')

    expect(errors).toEqual([])
    await context.close()
  }, 120_000)
})
