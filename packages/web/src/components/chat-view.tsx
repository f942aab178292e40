/**
 * One conversation: the peer's verified key, the history (windowed, older pages loaded on scroll),
 * each message's encryption and anchoring state, and the composer.
 */
import { useDMTPClient, useMessages, useSendMessage } from '@dmtp/react'
import type { DecryptedMessage, SendReturnType } from '@dmtp/sdk'
import { useCallback, useEffect, useRef, useState } from 'react'
import { friendlyError } from '../lib/errors.js'
import { shortAddress } from '../lib/format.js'
import { anchorOf, useAnchoring } from '../lib/use-anchoring.js'
import { usePeerKey } from '../lib/use-peer-key.js'
import { Composer } from './composer.js'
import { MessageItem } from './message-item.js'
import { PeerInfo } from './peer-info.js'
import { VirtualList } from './virtual-list.js'

const getKey = (message: DecryptedMessage) => message.id
const RELAY_RECHECK_MS = 4_000

type Props = { peer: string; me: string; onBack: () => void }

export function ChatView({ peer, me, onBack }: Props) {
  const client = useDMTPClient()
  const { messages, isLoading, error, hasMore, loadOlder, refresh, markRead } = useMessages(peer)
  const peerKey = usePeerKey(peer)
  const [sendError, setSendError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set())
  const [announcement, setAnnouncement] = useState('')
  const newest = messages.at(-1)
  const { anchoring, check } = useAnchoring(newest?.room, messages)

  const onSuccess = useCallback((result: SendReturnType) => {
    setSendError(null)
    setNotice(result.e2ee ? null : (result.notice ?? 'This message is not end-to-end encrypted yet.'))
  }, [])
  const send = useSendMessage(onSuccess, setSendError)

  // Read up to the newest message while it is on screen.
  const lastRead = useRef(0)
  useEffect(() => {
    if (!newest || newest.seq <= lastRead.current || document.visibilityState !== 'visible') return
    const fromPeer = newest.sender.toLowerCase() !== me.toLowerCase()
    if (fromPeer && lastRead.current !== 0) setAnnouncement(`New message from ${shortAddress(peer)}: ${newest.text ?? ''}`)
    lastRead.current = newest.seq
    if (fromPeer) markRead().catch(() => {})
  }, [newest, me, peer, markRead])

  // Pattern β, seen from the sender: the receiver sets up and migrates without writing back; look
  // again until what we relayed has been made end-to-end.
  const registered = peerKey.result?.registered === true
  const relayed = messages.some((m) => !m.e2ee)
  useEffect(() => {
    if (registered) setNotice(null)
  }, [registered])
  useEffect(() => {
    if (!registered || !relayed) return
    const timer = setInterval(() => refresh().catch(() => {}), RELAY_RECHECK_MS)
    void refresh().catch(() => {})
    return () => clearInterval(timer)
  }, [registered, relayed, refresh])

  const nearTop = useCallback(() => {
    if (hasMore && !isLoading) loadOlder().catch(() => {})
  }, [hasMore, isLoading, loadOlder])

  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current)
      if (!next.delete(id)) next.add(id)
      return next
    })

  const problem = sendError ? friendlyError(sendError) : error ? friendlyError(error) : null
  const warning =
    peerKey.result && !peerKey.result.registered
      ? `${shortAddress(peer)} has not set up DMTP: what you send now is encrypted to the server, which can read it, until they set up.`
      : undefined
  return (
    <section className="chat" aria-labelledby="chat-title">
      <header className="chat-header">
        <button type="button" className="back" onClick={onBack} aria-label="Back to conversations">
          ←
        </button>
        <div className="chat-peer">
          <h2 id="chat-title" title={peer}>
            {shortAddress(peer)}
          </h2>
          <PeerInfo peerKey={peerKey} />
        </div>
        <button
          type="button"
          className="small"
          onClick={() => void check()}
          disabled={anchoring.state === 'checking' || messages.length === 0}
          title="Compare this conversation with the history anchored on chain"
        >
          {anchoring.state === 'checking' ? 'Checking…' : 'Check anchoring'}
        </button>
      </header>
      {anchoring.state === 'checked' && !anchoring.ok && (
        <p role="alert" className="error">
          Some messages failed verification against the chain: the server changed or dropped them. They are marked below.
        </p>
      )}
      {anchoring.state === 'error' && <p className="error">Could not check anchoring: {friendlyError(anchoring.error).title}</p>}
      <VirtualList
        items={messages}
        getKey={getKey}
        label={`Messages with ${shortAddress(peer)}`}
        onNearTop={nearTop}
        header={
          <p className="history-edge">
            {isLoading && messages.length === 0
              ? 'Loading messages…'
              : hasMore
                ? isLoading
                  ? 'Loading older messages…'
                  : 'Scroll up for older messages'
                : messages.length === 0
                  ? 'No messages yet. Say hello.'
                  : 'Start of the conversation'}
          </p>
        }
        render={(message) => (
          <MessageItem
            message={message}
            mine={message.sender.toLowerCase() === me.toLowerCase()}
            peer={peer}
            anchor={anchorOf(anchoring, message)}
            server={client.server}
            open={open.has(message.id)}
            onToggle={() => toggle(message.id)}
          />
        )}
      />
      <p className="sr-only" aria-live="polite">
        {announcement}
      </p>
      {notice && (
        <p role="status" className="notice-bar">
          {notice}
        </p>
      )}
      {problem && (
        <div role="alert" className="error">
          {problem.title}
        </div>
      )}
      <Composer
        onSend={(text) => send(text, peer)}
        warning={warning}
        disabled={peerKey.result?.registered === true && !peerKey.result.verified}
      />
    </section>
  )
}
