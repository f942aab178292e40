/**
 * `useConversations`: the wallet's 1:1 conversations (`client.conversations()`), most recent
 * first, kept live from the provider's stream: a new message moves its conversation to the top
 * with the message as `lastMessage`, and counts as unread when it came from the peer. Groups are
 * left out (see `useRooms` for every room).
 */
import type { ConversationSummary, DecryptedMessage } from '@dmtp/sdk'
import { useDMTPStore } from '../_context.js'
import { sameAddress } from '../_messages.js'
import { useResource } from '../_resource.js'

export type UseConversationsReturnType = {
  /** Most recent first. Empty until connected. */
  conversations: ConversationSummary[]
  isLoading: boolean
  /** The SDK's typed error from the last load, if it failed. */
  error: Error | null
  /** Reloads from the server; rejects with the SDK's error (also kept in `error`). */
  refresh: () => Promise<void>
}

const NONE: ConversationSummary[] = []

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
  const { data, isLoading, error, refresh } = useResource({
    store,
    key: 'conversations',
    initial: NONE,
    load: () => store.client.conversations(),
    onEvent(event, session) {
      if (event.type === 'message' || event.type === 'sent') {
        // Groups have no receiver; their messages never change this list.
        if (event.message.receiver === null || event.message.type !== 'message') return
        const next = withMessage(session.get(), event.message, session.me, event.type === 'sent')
        if (next === undefined) session.refresh().catch(() => {})
        else session.set(next)
      } else if (event.type === 'migrated') session.refresh().catch(() => {})
      else if (event.type === 'read') session.set(session.get().map((c) => (c.room === event.room ? { ...c, unread: 0 } : c)))
    },
  })
  return { conversations: data, isLoading, error, refresh }
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
