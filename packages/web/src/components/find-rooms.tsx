/** Find public rooms by name or description, largest first, and join one. */
import { useRooms, useSearchRooms } from '@dmtp/react'
import { useEffect, useState } from 'react'
import { friendlyError } from '../lib/errors.js'

type Props = { onOpen: (room: string) => void; onBack: () => void }

export function FindRooms({ onOpen, onBack }: Props) {
  const [text, setText] = useState('')
  const [query, setQuery] = useState('')
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text), 300)
    return () => clearTimeout(timer)
  }, [text])
  const search = useSearchRooms(query)
  const { rooms: mine, join } = useRooms()
  const [joining, setJoining] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const member = new Set(mine.filter((entry) => entry.membership.status === 'member').map((entry) => entry.room.id))
  const enter = async (room: string) => {
    setJoining(room)
    setError(null)
    try {
      if (!member.has(room)) await join(room)
      onOpen(room)
    } catch (e) {
      setError(e)
    } finally {
      setJoining(null)
    }
  }
  return (
    <section className="form-screen" aria-labelledby="find-title">
      <header className="chat-header">
        <button type="button" className="back" onClick={onBack} aria-label="Back to conversations">
          ←
        </button>
        <h2 id="find-title">Find public rooms</h2>
      </header>
      <div className="stack padded">
        <label htmlFor="room-search">Search by name or description</label>
        <input id="room-search" type="search" value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" />
        <p className="hint">Public rooms are not end-to-end encrypted: anyone can read them.</p>
        {(error || search.error) && (
          <p role="alert" className="error">
            {friendlyError(error ?? search.error).title}
          </p>
        )}
        <ul className="search-results" aria-busy={search.isLoading}>
          {search.rooms.map((room) => (
            <li key={room.id} className="search-result">
              <div>
                <strong>{room.name}</strong>{' '}
                <span className="hint">
                  {room.memberCount} {room.memberCount === 1 ? 'member' : 'members'}
                  {room.announce ? ', announcement-only' : ''}
                </span>
                {room.description && <p className="hint">{room.description}</p>}
              </div>
              <button
                type="button"
                className="small"
                disabled={joining !== null}
                onClick={() => void enter(room.id)}
                aria-label={`${member.has(room.id) ? 'Open' : 'Join'} ${room.name}`}
              >
                {joining === room.id ? 'Joining…' : member.has(room.id) ? 'Open' : 'Join'}
              </button>
            </li>
          ))}
        </ul>
        {!search.isLoading && search.rooms.length === 0 && (
          <p className="hint">{query ? 'No public room matches.' : 'No public rooms yet.'}</p>
        )}
        {search.hasMore && (
          <button type="button" className="small" onClick={() => search.loadMore().catch(() => {})}>
            More rooms
          </button>
        )}
      </div>
    </section>
  )
}
