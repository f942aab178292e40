/**
 * Groups in the browser, two people in their own profiles (and an SDK user as a third member): a
 * public group created and found, joined, and talked in live; replies with mentions, reactions,
 * edits, pins and recalls; system lines; unread counts dropping once read; the members panel
 * offering moderation only to roles that allow it; a mute that refuses the muted member's
 * message with a clear reason, and a kick their view says plainly.
 */
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import type { Browser, Page } from 'playwright-core'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { TestServer } from '../../server/test/_util.js'
import { ensureBuilt, hasChromium, launch, newLocalUser, newPage, PHONE, screenshot, sendMessage } from './_util.js'

/** The message whose own text (not a quote of it) holds `text`. */
const bubble = (page: Page, text: string) =>
  page.locator('article.message').filter({ has: page.locator('p.text', { hasText: text }) })
const systemLine = (page: Page, text: string | RegExp) => page.locator('p.system-line', { hasText: text })
const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`

async function messageAction(page: Page, text: string, action: string | RegExp): Promise<void> {
  const target = bubble(page, text)
  await target.getByRole('button', { name: /^Actions for/ }).click()
  await target.getByRole('button', { name: action, exact: typeof action === 'string' }).click()
}

async function openMembers(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Members', exact: true }).click()
  await page.getByRole('heading', { name: /^Members \(\d+\)$/ }).waitFor()
}

describe.skipIf(!hasChromium)('web app: groups', () => {
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

  test('default: a public group found, joined and talked in live; moderation offered to those allowed; mute and kick', async () => {
    const alice = await newPage(browser)
    const bob = await newPage(browser)
    const aliceAddress = await newLocalUser(alice.page, server.url)
    const bobAddress = await newLocalUser(bob.page, server.url)

    // Alice creates a public group.
    await alice.page.getByRole('button', { name: 'New group' }).click()
    await alice.page.getByLabel('Name').fill('Builders')
    await alice.page.getByLabel('Description').fill('All about DMTP')
    await screenshot(alice.page, '40-new-group')
    await alice.page.getByRole('button', { name: 'Create group' }).click()
    await alice.page.getByRole('heading', { level: 2, name: 'Builders' }).waitFor()
    const roomId = /\/room\/([\w-]{22})$/.exec(alice.page.url())?.[1] as string
    expect(roomId).toBeDefined()
    await systemLine(alice.page, `${short(aliceAddress)} created the public room "Builders"`).waitFor()
    await alice.page.getByText('Public room: not end-to-end encrypted.').waitFor()
    await alice.page.locator(`button.conversation[data-room="${roomId}"]`).getByText('Public').waitFor()

    // Bob finds it by its description, sees its size, and joins.
    await bob.page.getByRole('button', { name: 'Find public rooms' }).click()
    await bob.page.getByLabel('Search by name or description').fill('about dmtp')
    const result = bob.page.locator('li.search-result', { hasText: 'Builders' })
    await result.getByText('1 member').waitFor()
    await screenshot(bob.page, '41-find-rooms')
    await result.getByRole('button', { name: 'Join Builders' }).click()
    await bob.page.getByRole('heading', { level: 2, name: 'Builders' }).waitFor()
    await systemLine(bob.page, `${short(bobAddress)} joined`).waitFor()
    await systemLine(alice.page, `${short(bobAddress)} joined`).waitFor()
    await alice.page.getByText('2 members').waitFor()

    // Away from the room, Bob's list counts what he has not read; opening the room reads it.
    await bob.page.getByRole('button', { name: 'New group' }).click()
    await sendMessage(alice.page, 'Hello builders')
    const bobRoom = bob.page.locator(`button.conversation[data-room="${roomId}"]`)
    await bobRoom.getByTestId('unread').waitFor()
    expect(await bobRoom.getByTestId('unread').innerText()).toMatch(/^1/)
    await bobRoom.click()
    await bubble(bob.page, 'Hello builders').waitFor()
    await bobRoom.getByTestId('unread').waitFor({ state: 'detached' })

    // Bob replies, mentioning Alice (picked from the members as he types @).
    await messageAction(bob.page, 'Hello builders', 'Reply')
    await bob.page.getByText(`Replying to ${short(aliceAddress)}`).waitFor()
    await bob.page.getByLabel('Message', { exact: true }).fill('@')
    await bob.page.getByRole('button', { name: `Mention ${short(aliceAddress)}` }).click()
    await bob.page.keyboard.type('thanks, glad to be here!')
    await bob.page.keyboard.press('Enter')
    const reply = bubble(alice.page, 'glad to be here')
    await reply.waitFor()
    await reply.locator('.quote', { hasText: 'Hello builders' }).waitFor()
    await reply.getByText('Mentions you').waitFor()
    await reply.locator('.mention.self', { hasText: '@you' }).waitFor()
    expect(await reply.getAttribute('class')).toContain('mentions-me')
    expect(await bubble(bob.page, 'glad to be here').getByText('Mentions you').count()).toBe(0)

    // Reactions: counted per emoji, each person toggling their own.
    await messageAction(alice.page, 'glad to be here', 'React')
    await alice.page.getByRole('button', { name: 'React with 👍' }).click()
    const bobsReply = bubble(bob.page, 'glad to be here')
    await bobsReply.getByRole('button', { name: '👍 1' }).click()
    await reply.getByRole('button', { name: '👍 2, including you' }).waitFor()
    await bobsReply.getByRole('button', { name: '👍 2, including you' }).click()
    await reply.getByRole('button', { name: '👍 1, including you' }).waitFor()

    // Alice edits and pins her message; Bob sees both live.
    await messageAction(alice.page, 'Hello builders', 'Edit')
    await alice.page.getByText('Editing your message').waitFor()
    await alice.page.getByLabel('Message', { exact: true }).fill('Hello, builders of DMTP')
    await alice.page.keyboard.press('Enter')
    await bubble(bob.page, 'Hello, builders of DMTP').getByText('(edited)').waitFor()
    // The reply's quote follows the edit.
    await bubble(bob.page, 'glad to be here').locator('.quote', { hasText: 'Hello, builders of DMTP' }).waitFor()
    await messageAction(alice.page, 'Hello, builders of DMTP', 'Pin')
    await bob.page.getByRole('region', { name: 'Pinned messages' }).getByText('Pinned: Hello, builders of DMTP').waitFor()

    // Bob recalls a message of his: gone for everyone.
    await sendMessage(bob.page, 'oops, wrong room')
    await bubble(alice.page, 'oops, wrong room').waitFor()
    await messageAction(bob.page, 'oops, wrong room', 'Recall')
    await bob.page.getByRole('button', { name: 'Yes, recall' }).click()
    await bubble(alice.page, 'oops, wrong room').waitFor({ state: 'detached' })
    await bubble(alice.page, 'Message recalled').waitFor()
    await bubble(bob.page, 'Message recalled').waitFor()
    await screenshot(alice.page, '42-group-chat')

    // A third member, through the SDK.
    const carol = createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
    await carol.setup()
    const carolAddress = (await carol.getWallet()).address
    await carol.rooms.join(roomId)
    await systemLine(bob.page, `${short(carolAddress)} joined`).waitFor()

    // The members panel: a Member is offered no moderation at all; the Owner is, on others only.
    await openMembers(bob.page)
    const bobPanel = bob.page.locator('#members-panel')
    await bobPanel.locator('li.member').nth(2).waitFor()
    expect(await bobPanel.locator('li.member .badge').allInnerTexts()).toEqual(['Owner', 'Member', 'Member'])
    expect(await bobPanel.getByRole('button', { name: /^Moderate/ }).count()).toBe(0)
    await screenshot(bob.page, '43-members-as-member')
    await openMembers(alice.page)
    const alicePanel = alice.page.locator('#members-panel')
    await alicePanel.getByRole('button', { name: `Moderate ${short(bobAddress)}` }).waitFor()
    await alicePanel.getByRole('button', { name: `Moderate ${short(carolAddress)}` }).waitFor()
    expect(await alicePanel.getByRole('button', { name: `Moderate ${short(aliceAddress)}` }).count()).toBe(0)

    // Alice makes Bob a Sub Admin: he may now mute Carol, but not remove her, and nothing on Alice.
    const bobRow = alicePanel.locator(`li.member[data-address="${bobAddress}"]`)
    await bobRow.getByRole('button', { name: `Moderate ${short(bobAddress)}` }).click()
    await bobRow.getByLabel('Role').selectOption('sub-admin')
    await bobRow.getByRole('button', { name: 'Set role' }).click()
    await systemLine(bob.page, `${short(aliceAddress)} made ${short(bobAddress)} a Sub Admin`).waitFor()
    const carolRowForBob = bobPanel.locator(`li.member[data-address="${carolAddress}"]`)
    await carolRowForBob.getByRole('button', { name: `Moderate ${short(carolAddress)}` }).click()
    await carolRowForBob.getByRole('button', { name: 'Mute' }).waitFor()
    expect(await carolRowForBob.getByRole('button', { name: 'Remove from room' }).count()).toBe(0)
    expect(await carolRowForBob.getByLabel('Role').count()).toBe(0)
    expect(await bobPanel.getByRole('button', { name: `Moderate ${short(aliceAddress)}` }).count()).toBe(0)
    await screenshot(bob.page, '44-members-as-sub-admin')

    // Back to Member, then muted for an hour: his message is refused, and he is told why.
    await bobRow.getByLabel('Role').selectOption('member')
    await bobRow.getByRole('button', { name: 'Set role' }).click()
    await systemLine(bob.page, `${short(aliceAddress)} made ${short(bobAddress)} a Member`).waitFor()
    await bobRow.getByLabel('For').selectOption({ label: '1 hour' })
    await bobRow.getByRole('button', { name: 'Mute' }).click()
    await systemLine(bob.page, new RegExp(`${short(aliceAddress)} muted ${short(bobAddress)} until`)).waitFor()
    await bob.page.getByText(/^You are muted in this room until .*: the server refuses what you send\.$/).waitFor()
    await bob.page.getByLabel('Message', { exact: true }).fill('can I still talk?')
    await bob.page.keyboard.press('Enter')
    await bob.page
      .getByRole('alert')
      .getByText(/^You are muted in this room until .+\. Your message was not sent\.$/)
      .waitFor()
    expect(await bob.page.getByLabel('Message', { exact: true }).inputValue()).toBe('can I still talk?')
    await bobRow.getByText(/^Muted until/).waitFor()
    await screenshot(bob.page, '45-muted')

    // Kicked: Bob's view says so, the composer goes, the room leaves his list.
    await bobRow.getByRole('button', { name: 'Remove from room' }).click()
    await systemLine(alice.page, `${short(aliceAddress)} removed ${short(bobAddress)}`).waitFor()
    await bob.page
      .getByTestId('removed')
      .getByText(`You were removed from this room by ${short(aliceAddress)}.`)
      .waitFor()
    await bob.page.getByLabel('Message', { exact: true }).waitFor({ state: 'detached' })
    await bobRoom.waitFor({ state: 'detached' })
    await alicePanel.getByRole('heading', { name: 'Members (2)' }).waitFor()
    await screenshot(bob.page, '46-kicked')

    // Phone width: the members panel covers the room, and closes back to it.
    await alice.page.setViewportSize(PHONE)
    await screenshot(alice.page, '47-phone-members')
    await alice.page.getByRole('button', { name: 'Close members' }).click()
    await bubble(alice.page, 'Hello, builders of DMTP').waitFor()
    await screenshot(alice.page, '48-phone-group')

    expect(alice.errors).toEqual([])
    expect(bob.errors).toEqual([])
    await alice.context.close()
    await bob.context.close()
  }, 180_000)

  test('behavior: a private group says so, and invites from the members panel', async () => {
    const { context, page, errors } = await newPage(browser)
    await newLocalUser(page, server.url)
    const dave = createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
    await dave.setup()
    const daveAddress = (await dave.getWallet()).address

    await page.getByRole('button', { name: 'New group' }).click()
    await page.getByLabel('Private group').check()
    await page.getByLabel('Name').fill('Core team')
    await page.getByLabel('Announcement-only').check()
    await page.getByRole('button', { name: 'Create group' }).click()
    await page.getByRole('heading', { level: 2, name: 'Core team' }).waitFor()
    await page.getByText('Private group: end-to-end encrypted (key epoch 1).').waitFor()
    await page
      .getByText(/announcement-only/)
      .first()
      .waitFor()
    await openMembers(page)
    await page.getByLabel('Invite a wallet').fill(daveAddress)
    await page.getByRole('button', { name: 'Invite', exact: true }).click()
    await page.getByText(`Invited ${short(daveAddress)}.`).waitFor()
    await systemLine(page, `invited ${short(daveAddress)}`).waitFor()
    const invited = (await dave.rooms.list()).find((entry) => entry.room.name === 'Core team')
    expect(invited).toMatchObject({ membership: { status: 'invited' }, room: { type: 'private', announce: true } })
    expect(errors).toEqual([])
    await context.close()
  }, 90_000)
})
