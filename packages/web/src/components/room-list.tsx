/**
 * Every room of the wallet, most recent first: 1:1 peers and groups (with their type), unread
 * counts; invitations first, each to accept (join) or decline.
 */
import { type UseRoomsReturnType, useRooms } from '@dmtp/react'
import type { RoomSummary } from '@dmtp/sdk'
import { friendlyError } from '../lib/errors.js'
import { formatDateTime, formatTime, MENTION, sameAddress, shortAddress } from '../lib/format.js'
import { useAction } from '../lib/use-action.js'

type Props = { active: string | undefined; me: string; onOpen: (room: string) => void }

export function RoomList({ active, me, onOpen }: Props) {
  const rooms = useRooms()
  const { isLoading, error } = rooms
  const invitations = rooms.rooms.filter((summary) => summary.membership.status === 'invited')
  if (error && rooms.rooms.length === 0) return <p className="error">{friendlyError(error).title}</p>
  if (rooms.rooms.length === 0)
    return <p className="hint empty">{isLoading ? 'Loading conversations…' : 'No conversations yet. Start one above.'}</p>
  return (
    <>
      {invitations.length > 0 && <Invitations invitations={invitations} rooms={rooms} onOpen={onOpen} />}
      <Conversations rooms={rooms.rooms} active={active} me={me} onOpen={onOpen} />
    </>
  )
}

/** Groups the wallet is invited to: join (then open it) or decline. */
function Invitations({
  invitations,
  rooms,
  onOpen,
}: {
  invitations: RoomSummary[]
  rooms: UseRoomsReturnType
  onOpen: (room: string) => void
}) {
  const { busy, error, run: answer } = useAction()
  return (
    <section className="invitations" aria-label="Invitations">
      <h3>Invitations</h3>
      <ul className="member-list">
        {invitations.map(({ room, membership }) => (
          <li key={room.id} className="member row" data-room={room.id}>
            <span className="room-name">
              {room.name} <span className="badge">{room.type === 'private' ? 'Private' : 'Group'}</span>
              {membership.invitedUntil ? (
                <span className="hint" data-testid="invitation-until">
                  {' '}
                  until {formatDateTime(membership.invitedUntil)}
                </span>
              ) : null}
            </span>
            <button
              type="button"
              className="primary small"
              disabled={busy}
              onClick={() =>
                answer(async () => {
                  await rooms.join(room.id)
                  onOpen(room.id)
                })
              }
            >
              Join {room.name}
            </button>
            <button type="button" className="small" disabled={busy} onClick={() => answer(() => rooms.leave(room.id))}>
              Decline {room.name}
            </button>
          </li>
        ))}
      </ul>
      {error ? <p className="error-text">{friendlyError(error).title}</p> : null}
    </section>
  )
}

function Conversations({ rooms, active, me, onOpen }: { rooms: RoomSummary[] } & Props) {
  return (
    <ul className="conversations">
      {rooms.map((summary) => (
        <li key={summary.room.id}>
          <RoomButton summary={summary} me={me} current={active === summary.room.id} onOpen={onOpen} />
        </li>
      ))}
    </ul>
  )
}

function RoomButton({
  summary,
  me,
  current,
  onOpen,
}: {
  summary: RoomSummary
  me: string
  current: boolean
  onOpen: (room: string) => void
}) {
  const { room, peer, unread, lastMessage: last, membership } = summary
  const group = room.type !== 'p2p'
  const author = !last ? '' : sameAddress(last.sender, me) ? 'You: ' : group ? `${shortAddress(last.sender)}: ` : ''
  const preview =
    membership.status === 'invited'
      ? 'You are invited'
      : membership.status === 'requested'
        ? 'Waiting for approval'
        : !last
          ? group
            ? room.description || 'No messages yet'
            : 'No messages'
          : `${author}${last.text?.replace(MENTION, (_, address: string) => `@${shortAddress(address)}`) ?? (last.status === 'ok' ? '' : 'Message failed a check')}`
  return (
    <button
      type="button"
      className={current ? 'conversation active' : 'conversation'}
      aria-current={current ? 'page' : undefined}
      onClick={() => onOpen(room.id)}
      data-room={room.id}
      data-peer={peer ?? undefined}
    >
      <span className="conversation-top">
        {group ? (
          <span className="room-name">
            {room.name}{' '}
            <span className="badge">{room.type === 'public' ? 'Public' : room.type === 'private' ? 'Private' : 'Group'}</span>
          </span>
        ) : (
          <span className="peer" title={peer ?? undefined}>
            {peer ? shortAddress(peer) : 'Conversation'}
          </span>
        )}
        {last && <time dateTime={last.timestamp}>{formatTime(last.timestamp)}</time>}
      </span>
      <span className="conversation-bottom">
        <span className="preview">{preview}</span>
        {unread > 0 && (
          <span className="unread" data-testid="unread">
            {unread}
            <span className="sr-only"> unread</span>
          </span>
        )}
      </span>
    </button>
  )
}
