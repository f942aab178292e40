/** The top of a room: the 1:1 peer and its key, or the group's name, type and size; and what a reader of a group must know. */
import type { UseRoomReturnType } from '@dmtp/react'
import { roleLabel, shortAddress } from '../lib/format.js'
import type { PeerKey } from '../lib/use-peer-key.js'
import { PeerInfo } from './peer-info.js'

export function DirectHeader({ title, peer, peerKey }: { title: string; peer: string | undefined; peerKey: PeerKey }) {
  return (
    <div className="chat-peer">
      <h2 id="chat-title" title={peer}>
        {title}
      </h2>
      {peer && <PeerInfo peerKey={peerKey} />}
    </div>
  )
}

type GroupHeaderProps = {
  room: UseRoomReturnType['room']
  role: string | null
  membersOpen: boolean
  onToggleMembers: () => void
}

export function GroupHeader({ room, role, membersOpen, onToggleMembers }: GroupHeaderProps) {
  const kind = room?.type === 'public' ? 'Public room' : room?.type === 'private' ? 'Private group' : 'Group'
  return (
    <>
      <div className="chat-peer">
        <h2 id="chat-title" title={room?.description || undefined}>
          {room?.name ?? 'Group'}
        </h2>
        <p className="peer-info">
          <span className="badge">{kind}</span>{' '}
          {room ? `${room.memberCount} ${room.memberCount === 1 ? 'member' : 'members'}` : ''}
          {role ? `, you are ${/^[aeiou]/i.test(roleLabel(role)) ? 'an' : 'a'} ${roleLabel(role)}` : ''}
          {room?.announce ? ', announcement-only' : ''}
        </p>
      </div>
      <button type="button" className="small" aria-expanded={membersOpen} aria-controls="members-panel" onClick={onToggleMembers}>
        Members
      </button>
    </>
  )
}

/** Whether the room is end-to-end encrypted (and under which key epoch); a log that does not verify; removed from the room. */
export function GroupNotices({ info }: { info: UseRoomReturnType }) {
  const { room, verified, problems, removed } = info
  return (
    <>
      {room && (
        <p className="room-notice" role="note">
          {room.type === 'public'
            ? 'Public room: not end-to-end encrypted. Anyone can read it, the server included; every message is signed by its sender.'
            : room.encryption?.e2ee
              ? `Private group: end-to-end encrypted (key epoch ${room.encryption.epoch}). Only its members can read these messages; a new key is made whenever someone leaves, is removed or joins.${room.encryption.plain ? ' Members may still send a message in plaintext, marked so.' : ''}`
              : 'Private group: not end-to-end encrypted. The server can read these messages; every message is signed by its sender.'}
        </p>
      )}
      {!verified && (
        <div role="alert" className="error">
          <p>
            The membership log of this room does not verify: who is a member, and with which role, may not be what the server
            says.
          </p>
          <p className="hint">{problems.map((p) => p.problem).join('; ')}</p>
        </div>
      )}
      {removed && (
        <p role="alert" className="error" data-testid="removed">
          {removed.type === 'kick'
            ? `You were removed from this room by ${shortAddress(removed.by)}.`
            : removed.type === 'ban'
              ? `You were banned from this room by ${shortAddress(removed.by)}${removed.until ? ` until ${new Date(removed.until).toLocaleString()}` : ''}.`
              : removed.type === 'leave'
                ? 'You left this room.'
                : 'This room was deleted.'}{' '}
          You no longer receive its messages.
        </p>
      )}
    </>
  )
}
