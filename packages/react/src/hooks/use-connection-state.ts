/** `useConnectionState`: whether the shared stream is up, so an app can say "offline, retrying". */
import { useSyncExternalStore } from 'react'
import { useDMTPStore } from '../_context.js'
import type { ConnectionStateReturnType } from '../_store.js'

/**
 * `disconnected` before `connectDMTP()`, `connecting` while the stream opens, `connected`, then
 * `disconnected` with `retryInMs` and `reason` whenever it drops (it reconnects by itself).
 * @example
 * import { useConnectionState } from '@dmtp/react'
 * const { state, retryInMs } = useConnectionState()
 * if (state === 'disconnected' && retryInMs) return <p>Offline, retrying in {Math.ceil(retryInMs / 1000)} s</p>
 */
export function useConnectionState(): ConnectionStateReturnType {
  const store = useDMTPStore('useConnectionState')
  return useSyncExternalStore(store.subscribe, store.getConnection, store.getConnection)
}
