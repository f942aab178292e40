/** Create a group: public (anyone finds, reads and joins it) or private (by invitation), its name, description, and whether only Admins post. */
import { useRooms } from '@dmtp/react'
import { type FormEvent, useState } from 'react'
import { friendlyError } from '../lib/errors.js'

type Props = { onCreated: (room: string) => void; onBack: () => void }

export function CreateGroupForm({ onCreated, onBack }: Props) {
  const { create } = useRooms()
  const [type, setType] = useState<'public' | 'private'>('public')
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [announce, setAnnounce] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (!name.trim()) return setError(new RangeError('Give the group a name.'))
    setBusy(true)
    setError(null)
    try {
      const { room } = await create({ type, name: name.trim(), description: description.trim(), announce })
      onCreated(room.id)
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="form-screen" aria-labelledby="new-group-title">
      <header className="chat-header">
        <button type="button" className="back" onClick={onBack} aria-label="Back to conversations">
          ←
        </button>
        <h2 id="new-group-title">New group</h2>
      </header>
      <form className="stack padded" onSubmit={submit} noValidate>
        <fieldset className="stack">
          <legend>Who can find and join it</legend>
          <label className="choice">
            <input type="radio" name="group-type" checked={type === 'public'} onChange={() => setType('public')} /> Public room
            <span className="hint">
              Anyone can find it, join and read it. Not end-to-end encrypted: the server and every reader see the messages, each
              signed by its sender.
            </span>
          </label>
          <label className="choice">
            <input type="radio" name="group-type" checked={type === 'private'} onChange={() => setType('private')} /> Private
            group
            <span className="hint">
              By invitation, or by asking to join. Not end-to-end encrypted yet: the server can read its messages.
            </span>
          </label>
        </fieldset>
        <label htmlFor="group-name">Name</label>
        <input
          id="group-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={100}
          autoComplete="off"
          required
        />
        <label htmlFor="group-description">Description</label>
        <textarea id="group-description" value={description} onChange={(e) => setDescription(e.target.value)} rows={3} />
        <label className="choice">
          <input type="checkbox" checked={announce} onChange={(e) => setAnnounce(e.target.checked)} /> Announcement-only
          <span className="hint">Only Owners, Admins and Sub Admins post; Members read and react.</span>
        </label>
        {error ? (
          <p role="alert" className="error">
            {friendlyError(error).title}
          </p>
        ) : null}
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create group'}
          </button>
          <button type="button" onClick={onBack}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  )
}
