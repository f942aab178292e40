/** The top of a room: the 1:1 peer and its key, or the group's name, type and size; and what a reader of a group must know. */
import type { RoomEncryption } from '@dmtp/protocol'
import type { UseRoomReturnType } from '@dmtp/react'
import type { RoomFork } from '@dmtp/sdk'
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

/**
 * Whether the room is end-to-end encrypted (under which key epoch, whether a new key is due, from
 * this member's key state when it has one); a log that does not verify; the server caught showing
 * members different logs; removed from the room.
 */
export function GroupNotices({ info, encryption }: { info: UseRoomReturnType; encryption: RoomEncryption | null }) {
  const { room, verified, problems, fork, removed } = info
  const state = encryption ?? room?.encryption ?? null
  return (
    <>
      {room && (
        <p className="room-notice" role="note" data-testid="room-encryption">
          {room.type === 'public'
            ? 'Public room: not end-to-end encrypted. Anyone can read it, the server included; every message is signed by its sender.'
            : state?.e2ee
              ? `Private group: end-to-end encrypted (key epoch ${state.epoch}). Only its members can read these messages; a new key is made whenever someone leaves, is removed or joins.${state.due ? ` A new key is due (${DUE[state.due]}): the next message makes it.` : ''}${state.plain ? ' Members may still send a message in plaintext, marked so.' : ''}`
              : 'Private group: not end-to-end encrypted. The server can read these messages; every message is signed by its sender.'}
        </p>
      )}
      {fork && <ForkBanner fork={fork} />}
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

const DUE: Record<NonNullable<RoomEncryption['due']>, string> = {
  leave: 'a member left',
  kick: 'a member was removed',
  ban: 'a member was banned',
  join: 'a member joined',
  e2ee_on: 'encryption was turned on',
  age: 'the key is old',
  count: 'the key encrypted many messages',
}

/** The server was caught showing members different membership logs: what this device saw, as evidence. */
function ForkBanner({ fork }: { fork: RoomFork }) {
  const head = (at: RoomFork['theirs']) => (at ? `${at.index === null ? '' : `entry ${at.index}, `}${at.cid}` : 'an empty log')
  const record = fork.namedBy?.record
  const where = !record ? '' : record.type === 'key_delivery' ? `the key of epoch ${record.epoch}` : `a ${record.type}`
  return (
    <div role="alert" className="error" data-testid="fork">
      <p>
        <strong>The server shows members different member lists.</strong>{' '}
        {fork.reason === 'unknown_head'
          ? `${fork.namedBy ? shortAddress(fork.namedBy.address) : 'A member'} saw a membership history this browser is not shown.`
          : fork.reason === 'rewritten_entry'
            ? 'The server changed a membership entry this browser had already verified.'
            : 'The server took back membership entries this browser had already verified.'}{' '}
        Who is in this room, and who can read what you send, may not be what other members see. Compare with them before trusting
        it.
      </p>
      <p className="hint fork-evidence">
        Their log: {head(fork.theirs)}. Yours: {head(fork.ours)}.{where ? ` Named in ${where}.` : ''} Found{' '}
        {new Date(fork.detectedAt).toLocaleString()}.
      </p>
    </div>
  )
}
