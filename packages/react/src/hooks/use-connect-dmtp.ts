/**
 * `useConnectDMTP`: sets up or unlocks the wallet's DMTP keys (`client.setup`), with progress.
 * Keeps `{ isConnectDMTP, connectDMTP }` from the public DMTP React SDK.
 */
import { useSyncExternalStore } from 'react'
import { useDMTPStore } from '../_context.js'
import type { ConnectStatus } from '../_store.js'

export type UseConnectDMTPReturnType = ConnectStatus & {
  /**
   * Runs `client.setup` (one run at a time: concurrent calls share it). Resolves once connected;
   * rejects with the SDK's typed error, also kept in `error`.
   */
  connectDMTP: () => Promise<void>
}

/**
 * @example
 * import { useConnectDMTP } from '@dmtp/react'
 *
 * function Connect() {
 *   const { isConnectDMTP, connectDMTP, isConnecting, step, error } = useConnectDMTP()
 *   if (isConnectDMTP) return <p>Connected</p>
 *   return (
 *     <button disabled={isConnecting} onClick={() => connectDMTP().catch(() => {})}>
 *       {isConnecting ? `Connecting (${step})…` : 'Connect DMTP'} {error?.message}
 *     </button>
 *   )
 * }
 */
export function useConnectDMTP(): UseConnectDMTPReturnType {
  const store = useDMTPStore('useConnectDMTP')
  const status = useSyncExternalStore(store.subscribe, store.getStatus, store.getStatus)
  return { ...status, connectDMTP: store.connect }
}
