/**
 * Test helpers: a `<DMTPProvider>` for a fresh wallet against a real `TestServer`, and one hook
 * that gathers every hook of the package, so a test drives a whole "app" per wallet.
 */
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import type { SendReturnType } from '@dmtp/sdk'
import { memoryStorage, privateKeyWallet, type WebSocketLike } from '@dmtp/sdk'
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
  useMessages,
  useSendMessage,
} from '../src/index.js'

export { TestServer } from '../../server/test/_util.js'

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

/** Every hook at once, as one app would use them. */
export function renderApp(wallet: Wallet, peer?: string, options: { pageSize?: number } = {}) {
  const sent: SendReturnType[] = []
  const errors: UseSendMessageErrorType[] = []
  const hook = renderHook(
    ({ peer }: { peer: string | undefined }) => ({
      connect: useConnectDMTP(),
      connection: useConnectionState(),
      conversations: useConversations(),
      chat: useMessages(peer, options),
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

export const texts = (app: App) => app.result.current.chat.messages.map((m) => m.text)
