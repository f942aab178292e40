/**
 * One entry of a room's timeline: a system line (a membership change, in the SDK's words), or a
 * message with the message it replies to, its text (mentions marked), its reactions, whether it
 * was edited, recalled or pinned, its encryption (1:1 and private groups: a lock, or a mark that
 * it is not end-to-end encrypted) and anchoring state, and the actions the
 * reader's role allows on it. A position that failed a check is shown as a warning with the
 * reason, never as a normal message.
 */
import type { MessageStatus, MessageView } from '@dmtp/sdk'
import { lazy, Suspense, useState } from 'react'
import { formatDateTime, formatTime, sameAddress, shortAddress } from '../lib/format.js'
import type { MessageAnchor } from '../lib/use-anchoring.js'
import { RichText } from './rich-text.js'

const MessageDetails = lazy(() => import('./message-details.js').then((m) => ({ default: m.MessageDetails })))

export const EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '🙏']

const PROBLEMS: Record<Exclude<MessageStatus, 'ok'>, string> = {
  awaiting_migration:
    'Sent to you before you set up DMTP. It is being made end-to-end encrypted and will be readable in a moment.',
  not_for_me: 'This message is not addressed to you.',
  altered: 'This message failed verification: its content does not match its identifier. It is not shown.',
  unknown_key: 'This message names a key that could not be verified. It is not shown.',
  undecryptable: 'This message could not be decrypted with your keys.',
  invalid_author: "This message failed the sender's signature check. It is not shown.",
  invalid_signature: 'This is not signed by the wallet it names: it may be forged. It is not shown.',
  not_member: 'Its sender was not a member of the room at that point (the server should have refused it). It is not shown.',
  forbidden: "Its sender's role did not allow this (the server should have refused it). It is not shown.",
  muted: 'Its sender was muted at that point (the server should have refused it). It is not shown.',
  unknown_log_head: 'Its sender saw a membership history this browser is not shown. It is not shown.',
  invalid_log: "This membership change does not follow from the room's signed history. It is not applied.",
  withheld: 'The server holds no content for this message.',
}

const ACTION_NAMES: Record<string, string> = {
  edit: 'An edit',
  react: 'A reaction',
  unreact: 'A reaction taken back',
  recall: 'A recall',
  pin: 'A pin',
  unpin: 'An unpin',
}

const ANCHOR_LABEL: Record<MessageAnchor['status'], string> = {
  anchored: 'Anchored',
  pending: 'Anchoring pending',
  failed: 'Failed verification',
  unknown: 'Anchoring not checked yet',
  off: 'Not anchored (no chain)',
}

/** What the reader may do to this message (from its role, computed by the room view). */
export type Allowed = { reply: boolean; react: boolean; edit: boolean; recall: boolean; pin: boolean }

export type MessageHandlers = {
  reply: (view: MessageView) => void
  edit: (view: MessageView) => void
  react: (view: MessageView, emoji: string, remove: boolean) => void
  recall: (view: MessageView) => void
  pin: (view: MessageView, unpin: boolean) => void
  jump: (id: string) => void
}

type Props = {
  view: MessageView
  me: string
  /** The 1:1 peer; undefined in groups. */
  peer: string | undefined
  /** A private group: each message says whether it is end-to-end encrypted (a member may send plaintext where allowed). */
  privateGroup: boolean
  anchor: MessageAnchor
  server: string
  allowed: Allowed
  handlers: MessageHandlers
  menuOpen: boolean
  onToggleMenu: () => void
  detailsOpen: boolean
  onToggleDetails: () => void
  /** The first unread position: a "New messages" line goes above it. */
  firstUnread: boolean
  /** The message this one replies to as it stands now (edited, recalled), when it is loaded. */
  quoted: MessageView | undefined
}

export function MessageItem(props: Props) {
  const { view, firstUnread } = props
  const divider = firstUnread && (
    <p className="new-divider">
      <span className="sr-only">Below: </span>New messages
    </p>
  )
  if (view.type === 'system') {
    return (
      <>
        {divider}
        <p className={view.status === 'ok' ? 'system-line' : 'system-line warning'} data-status={view.status}>
          {view.status === 'ok' ? view.text : `⚠ A membership change failed a check: ${problemOf(view)}`}
        </p>
      </>
    )
  }
  return (
    <>
      {divider}
      <Bubble {...props} />
    </>
  )
}

function problemOf(view: MessageView): string {
  const reason = PROBLEMS[view.status as Exclude<MessageStatus, 'ok'>] ?? view.status
  return view.problem ? `${reason} (${view.problem})` : reason
}

function Bubble({
  view,
  me,
  peer,
  privateGroup,
  anchor,
  server,
  allowed,
  handlers,
  menuOpen,
  onToggleMenu,
  detailsOpen,
  onToggleDetails,
  quoted,
}: Props) {
  const [picking, setPicking] = useState(false)
  const [confirmRecall, setConfirmRecall] = useState(false)
  const mine = sameAddress(view.sender, me)
  const group = peer === undefined
  const who = mine ? 'You' : shortAddress(view.sender)
  const detailsId = `details-${view.id}`
  const menuId = `actions-${view.id}`
  const failed = view.status !== 'ok'
  const action = view.type !== 'message'
  const classes = [
    'message',
    mine ? 'mine' : 'theirs',
    !view.e2ee && !group ? 'relayed' : '',
    failed ? 'warning' : '',
    view.mentionsMe ? 'mentions-me' : '',
    view.pinned ? 'pinned' : '',
  ]
  const notE2ee = mine
    ? `${shortAddress(peer ?? '')} had not set up DMTP when you sent this, so it is encrypted to the DMTP server's key and the server can read it. It becomes end-to-end encrypted when they set up.`
    : 'Sent to you before you set up DMTP, encrypted to the server’s key; the server could read it until it was made end-to-end encrypted.'
  return (
    <article
      className={classes.filter(Boolean).join(' ')}
      aria-label={`${who}, ${formatTime(view.timestamp)}${view.mentionsMe ? ', mentions you' : ''}`}
      data-status={view.status}
      data-e2ee={view.e2ee}
      data-id={view.id}
      tabIndex={-1}
    >
      {group && !mine && <p className="sender">{who}</p>}
      {view.replyTo && (
        <button type="button" className="quote" onClick={() => handlers.jump(view.replyTo?.id ?? '')}>
          <span className="sr-only">In reply to </span>
          <span className="quote-who">{view.replyTo.sender ? shortAddress(view.replyTo.sender) : 'a message'}</span>{' '}
          {quoted
            ? quoted.recalled
              ? 'Message recalled'
              : (quoted.text ?? 'A message that failed a check')
            : (view.replyTo.text ?? (view.replyTo.sender ? 'Message recalled' : 'An earlier message, not loaded'))}
        </button>
      )}
      {failed ? (
        <p className="text warning-text" role="note">
          ⚠ {action ? `${ACTION_NAMES[view.type] ?? 'An action'} from ${who} failed a check: ` : ''}
          {problemOf(view)}
        </p>
      ) : view.recalled ? (
        <p className="text unreadable">
          {sameAddress(view.recalled.by, view.sender)
            ? 'Message recalled'
            : `Message recalled by ${shortAddress(view.recalled.by)}`}
        </p>
      ) : (
        <p className="text">
          <RichText text={view.text ?? ''} me={me} />
        </p>
      )}
      {view.mentionsMe && !view.recalled && <p className="badge mention-badge">Mentions you</p>}
      {!view.e2ee && !group && !failed && (
        <p className="notice" role="note">
          <strong>Not yet end-to-end encrypted.</strong> {notE2ee}
        </p>
      )}
      {view.reactions.length > 0 && (
        <div className="reactions">
          {view.reactions.map((reaction) => (
            <button
              key={reaction.emoji}
              type="button"
              className={reaction.mine ? 'reaction mine' : 'reaction'}
              aria-pressed={reaction.mine}
              disabled={!allowed.react}
              title={reaction.by.map(shortAddress).join(', ')}
              aria-label={`${reaction.emoji} ${reaction.count}${reaction.mine ? ', including you' : ''}`}
              onClick={() => handlers.react(view, reaction.emoji, reaction.mine)}
            >
              {reaction.emoji} {reaction.count}
            </button>
          ))}
        </div>
      )}
      <footer className="meta">
        <time dateTime={view.timestamp} title={formatDateTime(view.timestamp)}>
          {formatTime(view.timestamp)}
        </time>
        {view.edited && <span>(edited)</span>}
        {view.pinned && <span>📌 Pinned</span>}
        {!group && (
          <span className={view.e2ee ? 'badge ok' : 'badge warn'}>
            {view.e2ee ? 'End-to-end encrypted' : 'Not yet end-to-end encrypted'}
          </span>
        )}
        {privateGroup && !failed && (
          <span className={view.e2ee ? 'badge ok lock' : 'badge warn'} data-testid="message-encryption">
            {view.e2ee ? (
              <>
                <span aria-hidden="true">🔒 </span>End-to-end encrypted
              </>
            ) : (
              'Not end-to-end encrypted: the server can read it'
            )}
          </span>
        )}
        <button
          type="button"
          className={`link anchor-${anchor.status}`}
          aria-expanded={detailsOpen}
          aria-controls={detailsId}
          onClick={onToggleDetails}
        >
          {ANCHOR_LABEL[anchor.status]}
        </button>
        {!failed && !view.recalled && !action && (
          <button
            type="button"
            className="link"
            aria-expanded={menuOpen}
            aria-controls={menuId}
            aria-label={`Actions for the message from ${who}`}
            onClick={onToggleMenu}
          >
            Actions
          </button>
        )}
      </footer>
      {menuOpen && (
        <fieldset className="message-actions" id={menuId}>
          <legend className="sr-only">Message actions</legend>
          {allowed.reply && (
            <button type="button" className="small" onClick={() => handlers.reply(view)}>
              Reply
            </button>
          )}
          {allowed.react && (
            <button type="button" className="small" aria-expanded={picking} onClick={() => setPicking((p) => !p)}>
              React
            </button>
          )}
          {allowed.edit && mine && (
            <button type="button" className="small" onClick={() => handlers.edit(view)}>
              Edit
            </button>
          )}
          {allowed.pin && (
            <button type="button" className="small" onClick={() => handlers.pin(view, view.pinned)}>
              {view.pinned ? 'Unpin' : 'Pin'}
            </button>
          )}
          {(mine || allowed.recall) &&
            (confirmRecall ? (
              <span className="confirm">
                Recall for everyone?{' '}
                <button type="button" className="small danger" onClick={() => handlers.recall(view)}>
                  Yes, recall
                </button>{' '}
                <button type="button" className="small" onClick={() => setConfirmRecall(false)}>
                  No
                </button>
              </span>
            ) : (
              <button type="button" className="small" onClick={() => setConfirmRecall(true)}>
                Recall
              </button>
            ))}
          {picking && (
            <fieldset className="picker">
              <legend className="sr-only">Pick a reaction</legend>
              {EMOJI.map((emoji) => {
                const own = view.reactions.some((r) => r.emoji === emoji && r.mine)
                return (
                  <button
                    key={emoji}
                    type="button"
                    className="small emoji"
                    aria-pressed={own}
                    aria-label={`React with ${emoji}`}
                    onClick={() => {
                      setPicking(false)
                      handlers.react(view, emoji, own)
                    }}
                  >
                    {emoji}
                  </button>
                )
              })}
            </fieldset>
          )}
        </fieldset>
      )}
      {detailsOpen && (
        <Suspense fallback={<p className="hint">Loading…</p>}>
          <MessageDetails id={detailsId} message={view} anchor={anchor} server={server} />
        </Suspense>
      )}
    </article>
  )
}
