/** `useDMTPEvent`: every event of the provider's shared stream (plus local ones), for custom views. */
import { useEffect, useRef } from 'react'
import { useDMTPStore } from '../_context.js'
import type { DMTPEvent } from '../_store.js'

/**
 * @param listener - called for each event; the latest one passed is used, no need to memoize it.
 * @example
 * import { useDMTPEvent } from '@dmtp/react'
 * useDMTPEvent((event) => {
 *   if (event.type === 'message' && event.message.text) new Notification(event.message.text)
 * })
 */
export function useDMTPEvent(listener: (event: DMTPEvent) => void): void {
  const store = useDMTPStore('useDMTPEvent')
  const latest = useRef(listener)
  useEffect(() => {
    latest.current = listener
  })
  useEffect(() => store.on((event) => latest.current(event)), [store])
}
