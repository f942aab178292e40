/**
 * A group's members with their roles, mutes and bans, and the moderation the reader's role
 * allows on each (role change, mute for a while, unmute, kick, ban, unban), computed from the
 * room's roles: nothing is offered that the rules would refuse. Also invitations, join requests
 * and end-to-end encryption (a new key, on or off) for private groups, and leaving.
 */
import { type Permission, type RoleContext, rolePermissions } from '@dmtp/protocol'
import { type UseRoomEncryptionReturnType, type UseRoomReturnType, useJoinRequests, useMembers } from '@dmtp/react'
import type { VerifiedMember } from '@dmtp/sdk'
import { type FormEvent, useId, useState } from 'react'
import { friendlyError, untilText } from '../lib/errors.js'
import { isAddress, roleLabel, sameAddress, shortAddress } from '../lib/format.js'
import { useAction } from '../lib/use-action.js'
import { EncryptionSettings } from './encryption-settings.js'

type Props = {
  room: string
  info: UseRoomReturnType
  encryption: UseRoomEncryptionReturnType
  me: string
  onClose: () => void
}

const DURATIONS: [string, number | undefined][] = [
  ['15 minutes', 15 * 60_000],
  ['1 hour', 60 * 60_000],
  ['1 day', 24 * 60 * 60_000],
  ['1 week', 7 * 24 * 60 * 60_000],
  ['for good', undefined],
]

export function MembersPanel({ room, info, encryption, me, onClose }: Props) {
  const { members, total, hasMore, loadMore, isLoading, error } = useMembers(room)
  const leave = useAction()
  const { can } = info
  return (
    <aside className="members-panel" id="members-panel" aria-labelledby="members-title">
      <header className="row">
        <h2 id="members-title">Members ({total})</h2>
        <button type="button" className="small" onClick={onClose} aria-label="Close members">
          Close
        </button>
      </header>
      {info.room?.description && <p className="hint">{info.room.description}</p>}
      {error && <p className="error">{friendlyError(error).title}</p>}
      <ul className="member-list">
        {members.map((member) => (
          <MemberRow key={member.address} member={member} info={info} me={me} />
        ))}
      </ul>
      {hasMore && (
        <button type="button" className="small" onClick={() => loadMore().catch(() => {})} disabled={isLoading}>
          More members
        </button>
      )}
      {info.room?.type === 'private' && can('invite') && <InviteForm info={info} />}
      {can('accept_join_request') && <Requests room={room} />}
      {info.room?.type === 'private' && info.membership?.status === 'member' && (
        <EncryptionSettings info={info} encryption={encryption} />
      )}
      {can('unban') && <Banned room={room} info={info} />}
      {info.membership?.status === 'member' && (
        <p>
          <button type="button" className="small danger" disabled={leave.busy} onClick={() => leave.run(() => info.leave())}>
            Leave this room
          </button>
          {leave.error ? <span className="error-text"> {friendlyError(leave.error).title}</span> : null}
        </p>
      )}
    </aside>
  )
}

function MemberRow({ member, info, me }: { member: VerifiedMember; info: UseRoomReturnType; me: string }) {
  const [open, setOpen] = useState(false)
  const [role, setRole] = useState('')
  const [length, setLength] = useState(1)
  const action = useAction()
  const id = useId()
  const self = sameAddress(member.address, me)
  const muted = member.mutedUntil !== null && member.mutedUntil > new Date().toISOString()
  const on = (permission: Permission) => !self && info.can(permission, member.role)
  const roles = self ? [] : grantableRoles(info, member.role)
  const offered = {
    role: on('set_role') && roles.length > 0,
    mute: on('mute') && !muted,
    unmute: on('unmute') && muted,
    kick: on('kick'),
    ban: on('ban'),
  }
  const any = Object.values(offered).some(Boolean)
  const subject = [member.address]
  const forMs = DURATIONS[length]?.[1]
  return (
    <li className="member" data-address={member.address}>
      <div className="member-top">
        <span className="peer" title={member.address}>
          {shortAddress(member.address)}
          {self && ' (you)'}
        </span>
        <span className="badge">{roleLabel(member.role)}</span>
      </div>
      {(muted || !member.verified) && (
        <p className="hint">
          {muted && `Muted${untilText(member.mutedUntil)}. `}
          {!member.verified && <span className="warning-text">Not proven by the room's signed log.</span>}
        </p>
      )}
      {any && (
        <button
          type="button"
          className="small"
          aria-expanded={open}
          aria-controls={`${id}-actions`}
          onClick={() => setOpen((o) => !o)}
        >
          Moderate {shortAddress(member.address)}
        </button>
      )}
      {open && any && (
        <fieldset className="moderation" id={`${id}-actions`}>
          <legend className="sr-only">Moderate {shortAddress(member.address)}</legend>
          {offered.role && (
            <div className="row">
              <label htmlFor={`${id}-role`}>Role</label>
              <select id={`${id}-role`} value={role} onChange={(event) => setRole(event.target.value)}>
                <option value="">Choose a role</option>
                {roles.map((r) => (
                  <option key={r} value={r}>
                    {roleLabel(r)}
                  </option>
                ))}
              </select>
              <button
                type="button"
                className="small"
                disabled={!role || action.busy}
                onClick={() => action.run(() => info.setRole(subject, role))}
              >
                Set role
              </button>
            </div>
          )}
          {(offered.mute || offered.ban) && (
            <div className="row">
              <label htmlFor={`${id}-length`}>For</label>
              <select id={`${id}-length`} value={length} onChange={(event) => setLength(Number(event.target.value))}>
                {DURATIONS.map(([label], index) => (
                  <option key={label} value={index}>
                    {label}
                  </option>
                ))}
              </select>
              {offered.mute && (
                <button
                  type="button"
                  className="small"
                  disabled={action.busy}
                  onClick={() => action.run(() => info.mute(subject, { forMs }))}
                >
                  Mute
                </button>
              )}
              {offered.ban && (
                <button
                  type="button"
                  className="small danger"
                  disabled={action.busy}
                  onClick={() => action.run(() => info.ban(subject, { forMs }))}
                >
                  Ban
                </button>
              )}
            </div>
          )}
          <div className="row">
            {offered.unmute && (
              <button
                type="button"
                className="small"
                disabled={action.busy}
                onClick={() => action.run(() => info.unmute(subject))}
              >
                Unmute
              </button>
            )}
            {offered.kick && (
              <button
                type="button"
                className="small danger"
                disabled={action.busy}
                onClick={() => action.run(() => info.kick(subject))}
              >
                Remove from room
              </button>
            )}
          </div>
          {action.error ? (
            <p role="alert" className="error-text">
              {friendlyError(action.error).title}
            </p>
          ) : null}
        </fieldset>
      )}
    </li>
  )
}

/**
 * The roles the reader may give a member: the rules let a role be granted only by someone who
 * holds every permission in it (an Admin cannot make an Owner), and never the member's own.
 */
function grantableRoles(info: UseRoomReturnType, current: string): string[] {
  const room = info.room as RoleContext | null
  if (!room || !info.role) return []
  const mine = new Set(info.permissions)
  return ['owner', 'admin', 'sub-admin', 'member', ...Object.keys(room.customRoles)].filter(
    (role) => role !== current && (rolePermissions(room, role) ?? []).every((permission) => mine.has(permission)),
  )
}

function InviteForm({ info }: { info: UseRoomReturnType }) {
  const [value, setValue] = useState('')
  const action = useAction()
  const [done, setDone] = useState<string | null>(null)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const address = value.trim()
    if (!isAddress(address)) return setDone('Enter a wallet address: 0x followed by 40 hexadecimal characters.')
    setDone(null)
    void action.run(async () => {
      await info.invite([address])
      setValue('')
      setDone(`Invited ${shortAddress(address)}.`)
    })
  }
  return (
    <form className="stack" onSubmit={submit} noValidate>
      <label htmlFor="invite-address">Invite a wallet</label>
      <div className="row">
        <input
          id="invite-address"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="0x… address"
          autoComplete="off"
        />
        <button type="submit" className="small" disabled={action.busy}>
          Invite
        </button>
      </div>
      {done || action.error ? (
        <p role="status" className="hint">
          {action.error ? friendlyError(action.error).title : done}
        </p>
      ) : null}
    </form>
  )
}

function Requests({ room }: { room: string }) {
  const { requests, approve, reject } = useJoinRequests(room)
  const action = useAction()
  if (requests.length === 0) return null
  return (
    <section aria-label="Requests to join">
      <h3>Asked to join</h3>
      <ul className="member-list">
        {requests.map((request) => (
          <li key={request.address} className="member row" data-address={request.address}>
            <span className="peer" title={request.address}>
              {shortAddress(request.address)}
            </span>
            <button
              type="button"
              className="small"
              disabled={action.busy}
              onClick={() => action.run(() => approve([request.address]))}
            >
              Let in {shortAddress(request.address)}
            </button>
            <button
              type="button"
              className="small"
              disabled={action.busy}
              onClick={() => action.run(() => reject([request.address]))}
            >
              Turn down {shortAddress(request.address)}
            </button>
          </li>
        ))}
      </ul>
      {action.error ? <p className="error-text">{friendlyError(action.error).title}</p> : null}
    </section>
  )
}

function Banned({ room, info }: { room: string; info: UseRoomReturnType }) {
  const { members } = useMembers(room, { status: 'banned' })
  const action = useAction()
  if (members.length === 0) return null
  return (
    <section aria-label="Banned">
      <h3>Banned</h3>
      <ul className="member-list">
        {members.map((member) => (
          <li key={member.address} className="member row" data-address={member.address}>
            <span className="peer" title={member.address}>
              {shortAddress(member.address)}
            </span>
            <span className="hint">{member.bannedUntil ? untilText(member.bannedUntil).trim() : 'for good'}</span>
            <button type="button" className="small" onClick={() => action.run(() => info.unban([member.address]))}>
              Lift ban on {shortAddress(member.address)}
            </button>
          </li>
        ))}
      </ul>
      {action.error ? <p className="error-text">{friendlyError(action.error).title}</p> : null}
    </section>
  )
}
