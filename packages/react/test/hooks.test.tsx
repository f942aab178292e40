// @vitest-environment node
/**
 * The hooks end to end, each wallet its own provider, against a real server: no mocks.
 */
import './_dom.js'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { ApiError, createClient, privateKeyWallet, ServerKeyRejectedError, type SetupStep, WalletRequiredError } from '@dmtp/sdk'
import { act, renderHook } from '@testing-library/react'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { DMTPNotConnectedError, DMTPProvider, useConnectDMTP, useConnectionState, useDMTPClient } from '../src/index.js'
import { connect, renderApp, TestServer, texts, until, wallet } from './_util.js'

describe('useConnectDMTP', () => {
  test('default: sets up the keys with progress, then opens the stream', async () => {
    await using server = await TestServer.create()
    const alice = wallet(server.url)
    const steps: (SetupStep | null)[] = []
    const { result, unmount } = renderHook(
      () => {
        const connect = useConnectDMTP()
        if (steps.at(-1) !== connect.step) steps.push(connect.step)
        return { connect, connection: useConnectionState() }
      },
      { wrapper: alice.wrapper },
    )
    expect(result.current.connect).toMatchObject({ isConnectDMTP: false, isConnecting: false, step: null, address: null })
    expect(result.current.connection.state).toBe('disconnected')

    // Outside act(), so each step renders as it happens, the way a progress UI sees it.
    const connecting = result.current.connect.connectDMTP()
    await until(() => result.current.connect.isConnecting)
    await connecting
    await until(() => result.current.connect.isConnectDMTP)
    expect(result.current.connect).toMatchObject({
      isConnectDMTP: true,
      isConnecting: false,
      step: 'done',
      address: alice.address,
      error: null,
    })
    // Steps in order (React may merge two that come in the same tick).
    const order: (SetupStep | null)[] = [null, 'checking', 'generating', 'encrypting', 'signing', 'uploading', 'done']
    expect(steps).toEqual(order.filter((step) => steps.includes(step)))
    expect(steps).toEqual(expect.arrayContaining([null, 'checking', 'done']))
    await until(() => result.current.connection.state === 'connected')
    unmount()
  })

  test('behavior: a provider without a wallet fails with WalletRequiredError, kept in `error`', async () => {
    await using server = await TestServer.create()
    const { result } = renderHook(() => useConnectDMTP(), {
      wrapper: ({ children }) => (
        <DMTPProvider server={server.url} crypto={nodeCryptoBackend}>
          {children}
        </DMTPProvider>
      ),
    })
    await act(() => expect(result.current.connectDMTP()).rejects.toBeInstanceOf(WalletRequiredError))
    expect(result.current.error).toBeInstanceOf(WalletRequiredError)
    expect(result.current.isConnectDMTP).toBe(false)
  })

  test('behavior: outside a provider', () => {
    expect(() => renderHook(() => useDMTPClient())).toThrowErrorMatchingInlineSnapshot(`
      [DMTPProviderNotFoundError: \`useDMTPClient\` must be used inside <DMTPProvider>.

      Wrap the app (or the part that messages) in <DMTPProvider server="…">.
      Version: @dmtp/protocol@0.1.0]
    `)
  })
})

describe('useSendMessage + useMessages + useConversations', () => {
  test('default: live both ways between two providers', async () => {
    await using server = await TestServer.create()
    const aliceWallet = wallet(server.url, { strict: true })
    const bobWallet = wallet(server.url)
    const alice = renderApp(aliceWallet, bobWallet.address)
    const bob = renderApp(bobWallet, aliceWallet.address)
    await connect(alice)
    await connect(bob)
    await until(() => !alice.result.current.chat.isLoading && !bob.result.current.chat.isLoading)
    expect(alice.result.current.chat.messages).toEqual([])
    // Opening the view opened the 1:1 room (the SDK's openDirect); nothing is in it yet.
    expect(alice.result.current.conversations.conversations.map((c) => c.lastMessage)).toEqual(
      alice.result.current.conversations.conversations.map(() => null),
    )

    const sent = await act(() => alice.result.current.send('hello bob 👋', bobWallet.address))
    expect(sent).toMatchObject({ seq: 1, e2ee: true })
    expect(sent.notice).toBeUndefined()
    expect(alice.sent).toEqual([sent])
    // The sender sees it at once; the receiver through the stream.
    expect(texts(alice)).toEqual(['hello bob 👋'])
    await until(() => texts(bob).length === 1)
    expect(bob.result.current.chat.messages[0]).toMatchObject({
      id: sent.id,
      text: 'hello bob 👋',
      sender: aliceWallet.address,
      receiver: bobWallet.address,
      e2ee: true,
      status: 'ok',
    })
    await until(() => bob.result.current.conversations.conversations.length === 1)
    expect(bob.result.current.conversations.conversations[0]).toMatchObject({
      peer: aliceWallet.address,
      unread: 1,
      lastMessage: { text: 'hello bob 👋' },
    })

    await act(() => bob.result.current.send('hi alice', aliceWallet.address))
    await act(() => bob.result.current.send('how are you?', aliceWallet.address))
    await until(() => texts(alice).length === 3)
    expect(texts(alice)).toEqual(['hello bob 👋', 'hi alice', 'how are you?'])
    expect(texts(bob)).toEqual(['hello bob 👋', 'hi alice', 'how are you?'])
    expect(alice.result.current.chat.messages.map((m) => m.seq)).toEqual([1, 2, 3])
    await until(() => alice.result.current.conversations.conversations[0]?.lastMessage?.text === 'how are you?')
    expect(alice.result.current.conversations.conversations).toMatchObject([
      { peer: bobWallet.address, unread: 2, messageCount: 3 },
    ])

    // The echo of alice's own message replaced the local copy: one entry, the signed timestamp.
    await until(() => alice.result.current.chat.messages[0]?.timestamp !== sent.receivedAt)
    expect(alice.result.current.chat.messages.filter((m) => m.id === sent.id)).toHaveLength(1)

    await act(() => alice.result.current.chat.markRead())
    expect(alice.result.current.conversations.conversations[0]?.unread).toBe(0)
    await act(() => alice.result.current.conversations.refresh())
    expect(alice.result.current.conversations.conversations[0]).toMatchObject({ unread: 0, messageCount: 3 })

    // A conversation that is not in the list yet comes in through a reload.
    const carol = createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
    await carol.setup()
    await carol.send(aliceWallet.address, 'carol here')
    await until(() => alice.result.current.conversations.conversations.length === 2)
    expect(alice.result.current.conversations.conversations[0]).toMatchObject({
      peer: (await carol.getWallet()).address,
      unread: 1,
      lastMessage: { text: 'carol here' },
    })
    // ...and stays out of the chat with bob.
    expect(texts(alice)).toEqual(['hello bob 👋', 'hi alice', 'how are you?'])
    alice.unmount()
    bob.unmount()
  })

  test('behavior: history pages, newest first, older on demand', async () => {
    await using server = await TestServer.create()
    const bobWallet = wallet(server.url)
    const alice = createClient({ server: server.url, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
    await alice.setup()
    const aliceAddress = (await alice.getWallet()).address
    // Bob has keys before the messages, so they are end-to-end; his app opens later.
    await createClient({ server: server.url, wallet: privateKeyWallet(bobWallet.key), crypto: nodeCryptoBackend }).setup()
    for (let i = 1; i <= 120; i++) await alice.send(bobWallet.address, `message ${i}`)

    const bob = renderApp(bobWallet, aliceAddress, { pageSize: 50 })
    await connect(bob)
    await until(() => bob.result.current.chat.messages.length === 50 && !bob.result.current.chat.isLoading)
    // The stream replays the unacknowledged inbox, which must not fill in pages not asked for.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(bob.result.current.chat.messages.map((m) => m.seq)).toEqual(range(71, 120))
    expect(bob.result.current.chat.hasMore).toBe(true)

    await act(() => bob.result.current.chat.loadOlder())
    expect(bob.result.current.chat.messages.map((m) => m.seq)).toEqual(range(21, 120))
    expect(bob.result.current.chat.hasMore).toBe(true)
    await act(() => bob.result.current.chat.loadOlder())
    expect(texts(bob)).toEqual(range(1, 120).map((i) => `message ${i}`))
    expect(bob.result.current.chat.hasMore).toBe(false)
    await act(() => bob.result.current.chat.loadOlder())
    expect(bob.result.current.chat.messages).toHaveLength(120)

    // Live messages still arrive at the end, once.
    await alice.send(bobWallet.address, 'message 121')
    await until(() => texts(bob).at(-1) === 'message 121')
    expect(new Set(bob.result.current.chat.messages.map((m) => m.id)).size).toBe(121)
    bob.unmount()
  })

  test('behavior: errors reach onError as typed errors and reject', async () => {
    await using server = await TestServer.create()
    const alice = renderApp(wallet(server.url))
    const bob = wallet(server.url)

    await act(() => expect(alice.result.current.send('too early', bob.address)).rejects.toBeInstanceOf(DMTPNotConnectedError))
    expect(alice.errors[0]).toBeInstanceOf(DMTPNotConnectedError)

    await connect(alice)
    // Not an address, so the SDK takes it for a room id, which the server refuses.
    await act(() => expect(alice.result.current.send('hi', 'not an address')).rejects.toBeInstanceOf(ApiError))
    expect(alice.errors[1]).toMatchObject({ code: 'validation_failed' })
    // Bob has no keys and this server has no registry to check its own key against.
    await act(() => expect(alice.result.current.send('hi', bob.address)).rejects.toBeInstanceOf(ServerKeyRejectedError))
    expect(alice.errors[2]).toBeInstanceOf(ServerKeyRejectedError)
    expect(alice.sent).toEqual([])

    // A server error is the SDK's ApiError with the server's code.
    const aliceAddress = alice.result.current.connect.address as string
    alice.rerender({ peer: aliceAddress })
    await until(() => alice.result.current.chat.error !== null)
    expect(alice.result.current.chat.error).toBeInstanceOf(ApiError)
    expect(alice.result.current.chat.error).toMatchObject({ code: 'invalid_request' })
    await act(() => expect(alice.result.current.chat.refresh()).rejects.toBeInstanceOf(ApiError))
    alice.unmount()
  })
})

describe('useConnectionState', () => {
  test('default: disconnected when the server stops, connected again after it restarts', async () => {
    await using server = await TestServer.create()
    const bobWallet = wallet(server.url)
    const aliceKey = generatePrivateKey()
    const alice = createClient({ server: server.url, wallet: privateKeyWallet(aliceKey), crypto: nodeCryptoBackend })
    await alice.setup()
    const bob = renderApp(bobWallet, privateKeyToAccount(aliceKey).address)
    await connect(bob)

    await server.stop()
    await until(() => bob.result.current.connection.state === 'disconnected')
    expect(bob.result.current.connection).toMatchObject({ reason: expect.any(String), retryInMs: expect.any(Number) })

    await server.restart()
    await until(() => bob.result.current.connection.state === 'connected', 20_000)
    await alice.send(bobWallet.address, 'after the restart')
    await until(() => texts(bob).includes('after the restart'))
    bob.unmount()
  })
})

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
