// @vitest-environment node
/**
 * The private-group hooks end to end against a real server: `useRoomEncryption` (E2EE state and
 * key epoch, a rotation, turning E2EE off), `useJoinRequests` (a request seen live, approved) and
 * `useRoom`'s `fork` (null while the server shows one log).
 */
import './_dom.js'
import { act, renderHook } from '@testing-library/react'
import { describe, expect, test } from 'vitest'
import { useConnectDMTP, useJoinRequests, useRoom, useRoomEncryption } from '../src/index.js'
import { DIALECTS, sdkUser, TestServer, until, wallet } from './_util.js'

function renderPrivateRoom(member: ReturnType<typeof wallet>, room: string | undefined) {
  return renderHook(
    ({ room }: { room: string | undefined }) => ({
      connect: useConnectDMTP(),
      room: useRoom(room),
      encryption: useRoomEncryption(room),
      requests: useJoinRequests(room),
    }),
    { wrapper: member.wrapper, initialProps: { room } },
  )
}

describe.each(DIALECTS)('private groups (%s)', (dialect) => {
  test('default: encryption state and epoch, a rotation, a join request approved, E2EE off', async () => {
    await using server = await TestServer.create({ dialect })
    const member = wallet(server.url)
    const app = renderPrivateRoom(member, undefined)
    await act(() => app.result.current.connect.connectDMTP())
    const bob = await sdkUser(server.url)

    const { room } = await bob.rooms.create({ type: 'private', name: 'core' })
    // Bob's group, with the wallet of this app invited.
    await bob.rooms.invite(room.id, [member.address])
    app.rerender({ room: room.id })
    // Invited, not a member yet: no keys (the server hides a private room's log from the invited).
    expect(app.result.current.encryption.encryption).toBeNull()
    await act(() => app.result.current.room.join())
    await until(() => app.result.current.encryption.encryption !== null)
    expect(app.result.current.encryption.encryption).toMatchObject({ e2ee: true, plain: false })
    expect(app.result.current.room.fork).toBeNull()

    // A join made the room due: bob's message comes under a new epoch, which this member holds.
    await bob.send(room.id, 'welcome')
    await until(() => app.result.current.encryption.encryption?.due === null)
    const epoch = app.result.current.encryption.encryption?.epoch as number
    expect(app.result.current.encryption.epochs).toContain(epoch)
    expect(await act(() => app.result.current.encryption.rotateKey())).toMatchObject({ epoch: epoch + 1 })
    expect(app.result.current.encryption.encryption?.epoch).toBe(epoch + 1)

    // Carol asks to join; this member, made an Admin, lets her in.
    await bob.rooms.setRole(room.id, [member.address], 'admin')
    const carol = await sdkUser(server.url)
    expect(await carol.rooms.join(room.id)).toMatchObject({ membership: { status: 'requested' } })
    await until(() => app.result.current.requests.requests.length === 1)
    expect(app.result.current.requests.requests[0]).toMatchObject({ address: carol.address, status: 'requested' })
    await act(() => app.result.current.requests.approve([carol.address]))
    await until(() => app.result.current.requests.requests.length === 0)
    expect((await carol.rooms.get(room.id)).membership.status).toBe('member')

    // Turning E2EE off needs `e2ee_off`, which only the Owner holds.
    await expect(app.result.current.encryption.setEncryption(false)).rejects.toMatchObject({ code: 'forbidden' })
    await bob.rooms.setEncryption(room.id, false)
    await until(() => app.result.current.encryption.encryption?.e2ee === false)
    app.unmount()
  })
})
