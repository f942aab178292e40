/**
 * `useConversations`: the wallet's conversations (`client.conversations()`), most recent first,
 * kept live from the provider's stream: a new message moves its conversation to the top with the
 * message as `lastMessage`, and counts as unread when it came from the peer.
 */
import type { ConversationSummary, DecryptedMessage } from '@dmtp/sdk'
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { useDMTPStore } from '../_context.js'
import { sameAddress } from '../_messages.js'
import type { DMTPEvent } from '../_store.js'
import { toError } from '../_store.js'

export type UseConversationsReturnType = {
  /** Most recent first. Empty until connected. */
  conversations: ConversationSummary[]
  isLoading: boolean
  /** The SDK's typed error from the last load, if it failed. */
  error: Error | null
  /** Reloads from the server; rejects with the SDK's error (also kept in `error`). */
  refresh: () => Promise<void>
}

/**
 * @example
 * import { useConversations } from '@dmtp/react'
 *
 * function Inbox() {
 *   const { conversations, isLoading } = useConversations()
 *   if (isLoading) return <p>Loading…</p>
 *   return conversations.map((c) => <p key={c.room}>{c.peer} ({c.unread}): {c.lastMessage?.text}</p>)
 * }
 */
export function useConversations(): UseConversationsReturnType {
  const store = useDMTPStore('useConversations')
  const { isConnectDMTP, address } = useSyncExternalStore(store.subscribe, store.getStatus, store.getStatus)
  const [conversations, setConversations] = useState<ConversationSummary[]>([])
  const [isLoading, setIsLoading] = useState(false)
  const [error, setError] = useState<Error | null>(null)
  const list = useRef<ConversationSummary[]>([])
  const loading = useRef<{ run: Promise<void>; again: boolean } | undefined>(undefined)

  const update = useCallback((next: ConversationSummary[]) => {
    list.current = next
    setConversations(next)
  }, [])

  const refresh = useCallback((): Promise<void> => {
    // One load at a time; anything that arrives meanwhile asks for one more after it.
    if (loading.current) {
      loading.current.again = true
      return loading.current.run
    }
    const run = (async () => {
      setIsLoading(true)
      try {
        do {
          if (loading.current) loading.current.again = false
          update(await store.client.conversations())
        } while (loading.current?.again)
        setError(null)
      } catch (error) {
        setError(toError(error))
        throw error
      } finally {
        loading.current = undefined
        setIsLoading(false)
      }
    })()
    loading.current = { run, again: false }
    return run
  }, [store, update])

  useEffect(() => {
    update([])
    if (!isConnectDMTP || !address) return
    refresh().catch(() => {})
    const onMessage = (message: DecryptedMessage, local: boolean) => {
      const next = withMessage(list.current, message, address, local)
      if (next === undefined || loading.current) refresh().catch(() => {})
      else update(next)
    }
    return store.on((event: DMTPEvent) => {
      if (event.type === 'message' || event.type === 'sent') onMessage(event.message, event.type === 'sent')
      else if (event.type === 'migrated') refresh().catch(() => {})
      else if (event.type === 'read') update(list.current.map((c) => (sameAddress(c.peer, event.peer) ? { ...c, unread: 0 } : c)))
    })
  }, [store, isConnectDMTP, address, refresh, update])

  return { conversations, isLoading, error, refresh }
}

/** The list with `message` applied, or undefined when its room is not in the list yet. */
function withMessage(
  list: ConversationSummary[],
  message: DecryptedMessage,
  me: string,
  local: boolean,
): ConversationSummary[] | undefined {
  const index = list.findIndex((c) => c.room === message.room)
  const conversation = list[index]
  if (!conversation) return undefined
  const last = conversation.lastMessage
  if (last && message.seq < last.seq) return list
  if (last && message.seq === last.seq) {
    // The same message again: a stream echo or a migration replacing it (never by a local copy).
    if (local) return list
    return list.map((c, i) => (i === index ? { ...c, lastMessage: message } : c))
  }
  const incoming = !sameAddress(message.sender, me)
  const updated: ConversationSummary = {
    ...conversation,
    lastMessage: message,
    messageCount: Math.max(conversation.messageCount, message.seq),
    unread: conversation.unread + (incoming ? 1 : 0),
  }
  return [updated, ...list.filter((_, i) => i !== index)]
}
