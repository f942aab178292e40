/**
 * Invitations reach the invitee alone, live: its stream emits `invitation` with the inviter's
 * signed entry, checked here (an invite naming this wallet, signed by the inviter's key); a
 * tampered or misaddressed one is not shown. By default an invitation lapses after a week.
 */
import { ApiError } from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { checkInvitation } from '../src/_invitation.js'
import { DEFAULT_INVITATION_MS } from '../src/actions/invite.js'
import type { StreamEvent } from '../src/index.js'
import { collect, DIALECTS, newClient, TestServer } from './_util.js'

type Client = ReturnType<typeof newClient>
const addressOf = async (client: Client) => (await client.getWallet()).address
const invitationOf = (events: StreamEvent[]) => events.find((event) => event.type === 'invitation')

describe.each(DIALECTS)('invitations (%s)', (dialect) => {
  test('default: the invitee is told at once, checked; others are not; it lapses after a week', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol] = [newClient(server.url), newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob, carol]) await client.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'crew' })
    const bobLive = bob.stream()
    const carolLive = carol.stream()
    await collect(bobLive, (events) => events.some((e) => e.type === 'caught_up'))
    await collect(carolLive, (events) => events.some((e) => e.type === 'caught_up'))

    const before = Date.now()
    const { until } = await alice.rooms.invite(room.id, [await addressOf(bob)])
    const event = invitationOf(await collect(bobLive, (events) => invitationOf(events) !== undefined))
    if (event?.type !== 'invitation') throw new Error('no invitation')
    expect(event.invitation).toMatchObject({ room: room.id, inviter: await addressOf(alice), until })
    const lapse = Date.parse(until as string) - before
    expect(lapse).toBeGreaterThanOrEqual(DEFAULT_INVITATION_MS - 1000)
    expect(lapse).toBeLessThanOrEqual(DEFAULT_INVITATION_MS + 5000)
    expect((await bob.rooms.list()).find((entry) => entry.room.id === room.id)?.membership).toMatchObject({
      status: 'invited',
      invitedUntil: until,
    })

    await expect(collect(carolLive, (events) => invitationOf(events) !== undefined, 500)).rejects.toThrow('timed out')
    await carolLive.return?.(undefined)
    await bob.rooms.join(room.id)
    await bobLive.return?.(undefined)
  })

  test('behavior: a tampered invitation, or one for another wallet, is not shown', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol] = [newClient(server.url), newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob, carol]) await client.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'crew' })
    const live = bob.stream()
    await collect(live, (events) => events.some((e) => e.type === 'caught_up'))
    await alice.rooms.invite(room.id, [await addressOf(bob)], { expiresInMs: 60_000 })
    const event = invitationOf(await collect(live, (events) => invitationOf(events) !== undefined))
    await live.return?.(undefined)
    if (event?.type !== 'invitation') throw new Error('no invitation')
    const { record } = event.invitation
    const bobAddress = await addressOf(bob)

    expect(await checkInvitation(bob, bobAddress, record)).toMatchObject({ room: room.id })
    const longer = structuredClone(record)
    if (longer.entry.event.type !== 'invite') throw new Error('not an invite')
    longer.entry.event.until = '2099-01-01T00:00:00.000Z'
    expect(await checkInvitation(bob, bobAddress, longer)).toBeUndefined()
    expect(await checkInvitation(carol, await addressOf(carol), record)).toBeUndefined()
  })

  test('behavior: an invitation that does not lapse, or one of a bad length, as asked', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'crew' })
    await expect(alice.rooms.invite(room.id, [await addressOf(bob)], { expiresInMs: -5 })).rejects.toThrow(RangeError)
    expect(await alice.rooms.invite(room.id, [await addressOf(bob)], { expiresInMs: null })).toEqual({ until: null })
    await expect(bob.rooms.join(room.id)).resolves.toBeDefined()
    await expect(alice.rooms.invite(room.id, [await addressOf(bob)])).rejects.toBeInstanceOf(ApiError)
  })
})
