/** Conversations, most recent first, with unread counts. */
import { useConversations } from '@dmtp/react'
import { friendlyError } from '../lib/errors.js'
import { formatTime, shortAddress } from '../lib/format.js'

type Props = { active: string | undefined; me: string; onOpen: (peer: string) => void }

export function ConversationList({ active, me, onOpen }: Props) {
  const { conversations, isLoading, error } = useConversations()
  if (error) return <p className="error">{friendlyError(error).title}</p>
  if (conversations.length === 0)
    return <p className="hint empty">{isLoading ? 'Loading conversations…' : 'No conversations yet. Start one above.'}</p>
  return (
    <ul className="conversations">
      {conversations.map((c) => {
        const last = c.lastMessage
        const current = active?.toLowerCase() === c.peer.toLowerCase()
        const preview = !last
          ? 'No messages'
          : `${last.sender.toLowerCase() === me.toLowerCase() ? 'You: ' : ''}${last.text ?? 'Message not readable yet'}`
        return (
          <li key={c.room}>
            <button
              type="button"
              className={current ? 'conversation active' : 'conversation'}
              aria-current={current ? 'page' : undefined}
              onClick={() => onOpen(c.peer)}
              data-peer={c.peer}
            >
              <span className="conversation-top">
                <span className="peer" title={c.peer}>
                  {shortAddress(c.peer)}
                </span>
                {last && <time dateTime={last.timestamp}>{formatTime(last.timestamp)}</time>}
              </span>
              <span className="conversation-bottom">
                <span className="preview">{preview}</span>
                {c.unread > 0 && (
                  <span className="unread" data-testid="unread">
                    {c.unread}
                    <span className="sr-only"> unread</span>
                  </span>
                )}
              </span>
            </button>
          </li>
        )
      })}
    </ul>
  )
}
