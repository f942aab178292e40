/** "Connection lost, reconnecting": shown while the live stream is down, gone once it is back. */
import { useConnectionState } from '@dmtp/react'
import { useEffect, useRef, useState } from 'react'

export function ConnectionBanner() {
  const { state, retryInMs, reason } = useConnectionState()
  const [lost, setLost] = useState(false)
  // Before the stream's first attempt the state is "disconnected" too: that is not a loss.
  const started = useRef(false)
  useEffect(() => {
    if (state !== 'disconnected') started.current = true
    if (state === 'connected') setLost(false)
    else if (state === 'disconnected' && started.current && reason !== 'closed') setLost(true)
  }, [state, reason])
  return (
    <div role="status" aria-live="polite" data-state={state} className={lost ? 'banner offline' : 'banner hidden'}>
      {lost &&
        (state === 'connecting'
          ? 'Connection lost. Reconnecting now…'
          : `Connection lost. Reconnecting${retryInMs ? ` in ${Math.max(1, Math.round(retryInMs / 1000))} s` : ''}… Messages sent to you meanwhile arrive when it is back.`)}
    </div>
  )
}
