/**
 * One room: its header (the 1:1 peer's verified key, or the group's name, type and members), what
 * the reader must know about it (end-to-end encrypted or not and under which key, a log that does
 * not verify, the server showing members different logs, removed, muted), pinned messages, the timeline (windowed, older pages loaded on scroll, marked read as
 * it is seen), and the composer with replies, edits and mentions.
 */
import { useDMTPClient, useMessages, useRoom, useRoomEncryption } from '@dmtp/react'
import type { MessageView } from '@dmtp/sdk'
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { friendlyError, untilText } from '../lib/errors.js'
import { sameAddress, shortAddress } from '../lib/format.js'
import { anchorOf, useAnchoring } from '../lib/use-anchoring.js'
import { usePeerKey } from '../lib/use-peer-key.js'
import { Composer, type ComposerContext } from './composer.js'
import { type Allowed, type MessageHandlers, MessageItem } from './message-item.js'
import { DirectHeader, GroupHeader, GroupNotices } from './room-header.js'
import { VirtualList, type VirtualListController } from './virtual-list.js'

const MembersPanel = lazy(() => import('./members-panel.js').then((m) => ({ default: m.MembersPanel })))

const getKey = (view: MessageView) => view.id
const RELAY_RECHECK_MS = 4_000

type Props = { id: string; me: string; onBack: () => void }

export function RoomView({ id, me, onBack }: Props) {
  const client = useDMTPClient()
  const chat = useMessages(id)
  const info = useRoom(id)
  const { messages, timeline, isLoading, error, hasMore, loadOlder, refresh, markRead } = chat
  const room = info.room
  // The 1:1 peer: from the room's pair, or (before it loads) from any message of the pair.
  const pairMessage = messages.find((m) => m.receiver !== null)
  const peer =
    room?.pair?.find((address) => !sameAddress(address, me)) ??
    (pairMessage ? (sameAddress(pairMessage.sender, me) ? (pairMessage.receiver ?? undefined) : pairMessage.sender) : undefined)
  const direct = room ? room.type === 'p2p' : peer !== undefined
  const privateGroup = room?.type === 'private'
  const encryption = useRoomEncryption(privateGroup ? id : undefined)
  const peerKey = usePeerKey(direct ? peer : undefined)
  const [problem, setProblem] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [details, setDetails] = useState<ReadonlySet<string>>(new Set())
  const [menu, setMenu] = useState<string | null>(null)
  const [context, setContext] = useState<ComposerContext | null>(null)
  const [membersOpen, setMembersOpen] = useState(false)
  const [announcement, setAnnouncement] = useState('')
  const list = useRef<VirtualListController>(null)
  const newest = messages.at(-1)
  const { anchoring, check } = useAnchoring(chat.room ?? undefined, messages)
  const member = info.membership?.status === 'member' && !info.removed

  // Read up to the newest position while it is on screen (and when the tab comes back).
  const readSeq = info.membership?.readSeq
  const marked = useRef(0)
  const [firstUnread, setFirstUnread] = useState<number | null>(null)
  useEffect(() => {
    if (readSeq === undefined || firstUnread !== null) return
    setFirstUnread(timeline.find((v) => v.seq > readSeq && v.type === 'message' && !sameAddress(v.sender, me))?.seq ?? 0)
  }, [readSeq, firstUnread, timeline, me])
  useEffect(() => {
    const read = () => {
      if (!newest || !member || readSeq === undefined || document.visibilityState !== 'visible') return
      if (newest.seq <= Math.max(readSeq, marked.current)) return
      if (marked.current !== 0 && !sameAddress(newest.sender, me) && newest.type === 'message')
        setAnnouncement(`New message from ${shortAddress(newest.sender)}: ${newest.text ?? ''}`)
      marked.current = newest.seq
      markRead(newest.seq).catch(() => {})
    }
    read()
    document.addEventListener('visibilitychange', read)
    return () => document.removeEventListener('visibilitychange', read)
  }, [newest, member, readSeq, me, markRead])

  // Pattern β, seen from the sender: the receiver sets up and migrates without writing back; look
  // again until what we relayed has been made end-to-end.
  const registered = peerKey.result?.registered === true
  const relayed = direct && messages.some((m) => !m.e2ee)
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

  const attempt = useCallback(async (run: () => Promise<unknown>) => {
    try {
      await run()
      setProblem(null)
    } catch (error) {
      setProblem(error)
      throw error
    }
  }, [])
  const { can } = info
  const allowed: Allowed = useMemo(
    () => ({
      reply: member && can('send'),
      react: member && can('react'),
      edit: member && can('send'),
      recall: member && can('recall_others'),
      pin: member && can('pin'),
    }),
    [member, can],
  )
  const handlers: MessageHandlers = useMemo(
    () => ({
      reply: (view) => {
        setMenu(null)
        setContext({
          kind: 'reply',
          id: view.id,
          label: sameAddress(view.sender, me) ? 'yourself' : shortAddress(view.sender),
          text: view.text ?? '',
        })
      },
      edit: (view) => {
        setMenu(null)
        setContext({ kind: 'edit', id: view.id, label: 'you', text: view.text ?? '' })
      },
      react: (view, emoji, remove) => void attempt(() => chat.react(view.id, emoji, { remove })).catch(() => {}),
      recall: (view) => {
        setMenu(null)
        void attempt(() => chat.recall(view.id)).catch(() => {})
      },
      pin: (view, unpin) => {
        setMenu(null)
        void attempt(() => chat.pin(view.id, { unpin })).catch(() => {})
      },
      jump: (target) => list.current?.scrollTo(target),
    }),
    [me, attempt, chat.react, chat.recall, chat.pin],
  )

  const send = async (text: string) => {
    const mentions = direct ? [] : [...new Set([...text.matchAll(/@(0x[0-9a-fA-F]{40})/g)].map((m) => m[1] as string))]
    if (context?.kind === 'edit') {
      await attempt(() => chat.edit(context.id, text))
    } else {
      await attempt(async () => {
        const result = await chat.send(text, { replyTo: context?.kind === 'reply' ? context.id : undefined, mentions })
        if (direct) setNotice(result.e2ee ? null : (result.notice ?? 'This message is not end-to-end encrypted yet.'))
      })
    }
    setContext(null)
  }

  const toggle = (id: string) =>
    setDetails((current) => {
      const next = new Set(current)
      if (!next.delete(id)) next.add(id)
      return next
    })

  const pinned = timeline.filter((view) => view.pinned && !view.recalled)
  // @NOTE foldMessages copies a reply's quote when it folds the reply, so a later edit or recall
  // of the original would not show there; the quote is read from the original as it stands now.
  const byId = useMemo(() => new Map(timeline.map((view) => [view.id, view])), [timeline])
  const shown = problem ?? error ?? (room === null ? info.error : null)
  const failure = shown ? friendlyError(shown) : null
  const title = direct ? (peer ? shortAddress(peer) : 'Conversation') : (room?.name ?? 'Group')
  const label = direct ? `Messages with ${peer ? shortAddress(peer) : 'your peer'}` : `Messages in ${room?.name ?? 'this group'}`
  const composerWarning = direct
    ? peerKey.result && !peerKey.result.registered
      ? `${shortAddress(peer ?? '')} has not set up DMTP: what you send now is encrypted to the server, which can read it, until they set up.`
      : undefined
    : info.muted
      ? `You are muted in this room${untilText(info.membership?.mutedUntil)}: the server refuses what you send.`
      : undefined
  return (
    <div className={membersOpen ? 'room with-members' : 'room'}>
      <section className="chat" aria-labelledby="chat-title">
        <header className="chat-header">
          <button type="button" className="back" onClick={onBack} aria-label="Back to conversations">
            ←
          </button>
          {direct ? (
            <DirectHeader title={title} peer={peer} peerKey={peerKey} />
          ) : (
            <GroupHeader
              room={room}
              role={info.role}
              membersOpen={membersOpen}
              onToggleMembers={() => setMembersOpen((o) => !o)}
            />
          )}
          <button
            type="button"
            className="small"
            onClick={() => void check()}
            disabled={anchoring.state === 'checking' || messages.length === 0}
            title="Compare this room with the history anchored on chain"
          >
            {anchoring.state === 'checking' ? 'Checking…' : 'Check anchoring'}
          </button>
        </header>
        {!direct && <GroupNotices info={info} encryption={encryption.encryption} />}
        {anchoring.state === 'checked' && !anchoring.ok && (
          <p role="alert" className="error">
            Some messages failed verification against the chain: the server changed or dropped them. They are marked below.
          </p>
        )}
        {anchoring.state === 'error' && (
          <p className="error">Could not check anchoring: {friendlyError(anchoring.error).title}</p>
        )}
        {pinned.length > 0 && (
          <section className="pinned-bar" aria-label="Pinned messages">
            <span aria-hidden="true">📌</span>
            <button type="button" className="link" onClick={() => list.current?.scrollTo((pinned.at(-1) as MessageView).id)}>
              Pinned: {pinned.at(-1)?.text}
            </button>
            {pinned.length > 1 && <span className="hint">and {pinned.length - 1} more</span>}
          </section>
        )}
        <VirtualList
          items={timeline}
          getKey={getKey}
          label={label}
          onNearTop={nearTop}
          controller={list}
          header={
            <p className="history-edge">
              {isLoading && timeline.length === 0
                ? 'Loading messages…'
                : hasMore
                  ? isLoading
                    ? 'Loading older messages…'
                    : 'Scroll up for older messages'
                  : timeline.length === 0
                    ? 'No messages yet. Say hello.'
                    : direct
                      ? 'Start of the conversation'
                      : 'Start of the room'}
            </p>
          }
          render={(view) => (
            <MessageItem
              view={view}
              me={me}
              peer={direct ? (peer ?? '') : undefined}
              privateGroup={privateGroup}
              anchor={anchorOf(anchoring, view)}
              server={client.server}
              allowed={allowed}
              handlers={handlers}
              menuOpen={menu === view.id}
              onToggleMenu={() => setMenu((open) => (open === view.id ? null : view.id))}
              detailsOpen={details.has(view.id)}
              onToggleDetails={() => toggle(view.id)}
              firstUnread={firstUnread !== null && firstUnread > 0 && view.seq === firstUnread}
              quoted={view.replyTo ? byId.get(view.replyTo.id) : undefined}
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
        {failure && (
          <div role="alert" className="error">
            {failure.title}
          </div>
        )}
        {direct || (member && can('send')) ? (
          <Composer
            onSend={send}
            warning={composerWarning}
            disabled={direct && peerKey.result?.registered === true && !peerKey.result.verified}
            context={context}
            onCancelContext={() => setContext(null)}
            mentionRoom={direct ? undefined : (chat.room ?? undefined)}
            me={me}
          />
        ) : (
          <JoinBar info={info} />
        )}
      </section>
      {membersOpen && !direct && (
        <Suspense fallback={<aside className="members-panel">Loading members…</aside>}>
          <MembersPanel room={id} info={info} encryption={encryption} me={me} onClose={() => setMembersOpen(false)} />
        </Suspense>
      )}
    </div>
  )
}

/** In place of the composer in a group the reader cannot post to: why, and what it can do. */
function JoinBar({ info }: { info: ReturnType<typeof useRoom> }) {
  const [error, setError] = useState<unknown>(null)
  const status = info.membership?.status
  if (info.removed || !info.room) return null
  const join = () => {
    setError(null)
    info.join().catch(setError)
  }
  return (
    <div className="composer join-bar">
      {status === 'member' ? (
        <p>Only Admins post in this announcement room. You can read and react.</p>
      ) : status === 'invited' ? (
        <p>
          You are invited to this group.{' '}
          <button type="button" className="primary small" onClick={join}>
            Join
          </button>{' '}
          <button type="button" className="small" onClick={() => info.leave().catch(setError)}>
            Decline
          </button>
        </p>
      ) : status === 'requested' ? (
        <p>You asked to join; a member who can accept requests will let you in.</p>
      ) : (
        <p>
          {info.room.type === 'public' ? 'You are reading this public room without being a member.' : 'You are not a member.'}{' '}
          <button type="button" className="primary small" onClick={join}>
            {info.room.type === 'public' ? 'Join' : 'Ask to join'}
          </button>
        </p>
      )}
      {error ? (
        <p role="alert" className="error-text">
          {friendlyError(error).title}
        </p>
      ) : null}
    </div>
  )
}
