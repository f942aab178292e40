/**
 * `<DMTPProvider>`: one SDK client and one live stream for every DMTP hook below it. Same name and
 * role as the provider of the public DMTP React SDK (`dmtp-sdk-react`), so apps can switch.
 */
import { type ClientStorage, type CreateClientParameters, createClient, type DmtpClient, type WalletInput } from '@dmtp/sdk'
import { type ReactNode, useEffect, useMemo, useRef, useSyncExternalStore } from 'react'
import { DMTPContext } from './_context.js'
import { DmtpStore } from './_store.js'
import { localStorageStorage } from './local-storage-storage.js'

export type DMTPProviderProps = {
  /** Base URL of the DMTP server, e.g. `https://dmtp.example`. */
  server: string
  /** A dApp's API key, for servers that require one. */
  apiKey?: string | undefined
  /** @deprecated The prop name of `dmtp-sdk-react`; use `apiKey`. */
  APIKey?: string | undefined
  /**
   * A viem LocalAccount, an EIP-1193 provider or a `DmtpWallet`. Defaults to `window.ethereum`
   * when there is one (what `dmtp-sdk-react` used).
   */
  wallet?: WalletInput | undefined
  /** Where the session token is kept; defaults to `localStorage` when it exists, else memory. */
  storage?: ClientStorage | undefined
  /** A client made by the app with `createClient`; then `server`, `apiKey` and `wallet` are ignored. */
  client?: DmtpClient | undefined
  /** Passed to `createClient` (read when the client is made). */
  crypto?: CreateClientParameters['crypto']
  /** Passed to `createClient` (read when the client is made). */
  WebSocket?: CreateClientParameters['WebSocket']
  /** Passed to `createClient` (read when the client is made). */
  fetch?: CreateClientParameters['fetch']
  /**
   * Make messages relayed to this wallet end-to-end as soon as the server has them ready (pattern β).
   * Default true; without it, call `client.migrate()` yourself.
   */
  autoMigrate?: boolean | undefined
  children?: ReactNode
}

/**
 * Provides a DMTP client to the hooks. It keeps one stream open while connected and shares its
 * events with every hook, so any number of views cost one connection.
 * @example
 * import { DMTPProvider } from '@dmtp/react'
 * import { privateKeyToAccount } from 'viem/accounts'
 *
 * export function App() {
 *   return (
 *     <DMTPProvider server="https://dmtp.example" apiKey="dmtp_…" wallet={window.ethereum}>
 *       <Inbox />
 *     </DMTPProvider>
 *   )
 * }
 */
export function DMTPProvider(props: DMTPProviderProps): ReactNode {
  const { server, client: given, children } = props
  const apiKey = props.apiKey ?? props.APIKey
  const wallet = props.wallet ?? (globalThis as { ethereum?: WalletInput }).ethereum
  // Options that do not identify the client are read when it is made, so passing a new object
  // each render does not make a new client (and drop the session and the unlocked keys).
  const latest = useRef(props)
  latest.current = props

  const client = useMemo(() => {
    if (given) return given
    const { storage, crypto, WebSocket, fetch } = latest.current
    return createClient({ server, apiKey, wallet, storage: storage ?? defaultStorage(), crypto, WebSocket, fetch })
  }, [given, server, apiKey, wallet])
  const store = useMemo(() => new DmtpStore(client, { autoMigrate: () => latest.current.autoMigrate ?? true }), [client])

  const { isConnectDMTP } = useSyncExternalStore(store.subscribe, store.getStatus, store.getStatus)
  useEffect(() => (isConnectDMTP ? store.openStream() : undefined), [store, isConnectDMTP])

  return <DMTPContext.Provider value={store}>{children}</DMTPContext.Provider>
}

function defaultStorage(): ClientStorage | undefined {
  try {
    return globalThis.localStorage ? localStorageStorage() : undefined
  } catch {
    // Some browsers throw on access to localStorage (privacy modes): memory it is.
    return undefined
  }
}
