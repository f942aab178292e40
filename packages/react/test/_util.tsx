/**
 * Test helpers: a `<DMTPProvider>` for a fresh wallet against a real `TestServer`, and one hook
 * that gathers every hook of the package, so a test drives a whole "app" per wallet.
 */
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import type { SendReturnType } from '@dmtp/sdk'
import { createClient, memoryStorage, privateKeyWallet, type WebSocketLike } from '@dmtp/sdk'
import { act, renderHook, waitFor } from '@testing-library/react'
import { type ReactNode, StrictMode } from 'react'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { WebSocket } from 'ws'
import {
  DMTPProvider,
  type DMTPProviderProps,
  type UseSendMessageErrorType,
  useConnectDMTP,
  useConnectionState,
  useConversations,
  useMembers,
  useMessages,
  useRoom,
  useRooms,
  useSearchRooms,
  useSendMessage,
} from '../src/index.js'

export { DIALECTS, TestServer } from '../../server/test/_util.js'

export type Wallet = { key: `0x${string}`; address: string; wrapper: (props: { children: ReactNode }) => ReactNode }

/** A wallet and a provider for it; jsdom's own WebSocket and WebCrypto are bypassed for Node's. */
export function wallet(server: string, options: Partial<DMTPProviderProps> & { strict?: boolean } = {}): Wallet {
  const key = generatePrivateKey()
  const dmtpWallet = privateKeyWallet(key)
  const storage = memoryStorage()
  const wrapper = ({ children }: { children: ReactNode }) => {
    const provider = (
      <DMTPProvider
        server={server}
        wallet={dmtpWallet}
        storage={storage}
        crypto={nodeCryptoBackend}
        WebSocket={WebSocket as unknown as WebSocketLike}
        {...options}
      >
        {children}
      </DMTPProvider>
    )
    return options.strict ? <StrictMode>{provider}</StrictMode> : provider
  }
  return { key, address: privateKeyToAccount(key).address, wrapper }
}

/**
 * Every hook at once, as one app would use them; `peer` is the room the chat, room and members
 * hooks show (a room id, or a wallet address for 1:1).
 */
export function renderApp(wallet: Wallet, peer?: string, options: { pageSize?: number; membersPageSize?: number } = {}) {
  const sent: SendReturnType[] = []
  const errors: UseSendMessageErrorType[] = []
  const hook = renderHook(
    ({ peer, search }: { peer: string | undefined; search?: string | undefined }) => ({
      connect: useConnectDMTP(),
      connection: useConnectionState(),
      conversations: useConversations(),
      rooms: useRooms(),
      room: useRoom(peer),
      // 1:1 rooms have fixed members and no log: the members hook is for groups.
      members: useMembers(peer?.startsWith('0x') ? undefined : peer, { pageSize: options.membersPageSize }),
      chat: useMessages(peer, options),
      search: useSearchRooms(search),
      send: useSendMessage(
        (result) => sent.push(result),
        (error) => errors.push(error),
      ),
    }),
    { wrapper: wallet.wrapper, initialProps: { peer } },
  )
  return { ...hook, sent, errors }
}

export type App = ReturnType<typeof renderApp>

/** A Node SDK user (no React), set up. */
export async function sdkUser(server: string) {
  const client = createClient({ server, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
  await client.setup()
  return Object.assign(client, { address: (await client.getWallet()).address })
}

/** Connects and waits for the stream. */
export async function connect(app: App): Promise<void> {
  await act(() => app.result.current.connect.connectDMTP())
  await until(() => app.result.current.connection.state === 'connected')
}

/** `waitFor` with a timeout that suits a real server. */
export function until(check: () => boolean | undefined, timeout = 10_000): Promise<void> {
  return waitFor(
    () => {
      if (!check()) throw new Error('not yet')
    },
    { timeout, interval: 20 },
  )
}

/** The texts of the chat's plain messages (1:1 views hold no system lines). */
export const texts = (app: App) => app.result.current.chat.messages.map((m) => m.text)

/** The folded timeline, one line per entry: `system: …`, or the text with its edits, reactions, recall. */
export const lines = (app: App) =>
  app.result.current.chat.timeline.map((m) => {
    if (m.type === 'system') return `system: ${m.text}`
    if (m.status !== 'ok') return `${m.type} (${m.status})`
    if (m.recalled) return '(recalled)'
    const reactions = m.reactions.map((r) => ` ${r.emoji}${r.count}${r.mine ? '*' : ''}`).join('')
    return `${m.text}${m.edited ? ' (edited)' : ''}${m.pinned ? ' (pinned)' : ''}${reactions}`
  })
