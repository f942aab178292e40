/** Start a chat with any address. */
import { type FormEvent, useState } from 'react'
import { isAddress } from '../lib/format.js'

export function NewChatForm({ me, onStart }: { me: string; onStart: (address: string) => void }) {
  const [value, setValue] = useState('')
  const [error, setError] = useState<string | null>(null)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const address = value.trim()
    if (!isAddress(address)) return setError('Enter a wallet address: 0x followed by 40 hexadecimal characters.')
    if (address.toLowerCase() === me.toLowerCase()) return setError('That is your own address. Enter someone else’s.')
    setError(null)
    setValue('')
    onStart(address)
  }
  return (
    <form className="new-chat" onSubmit={submit} noValidate>
      <label htmlFor="new-chat-address">Start a chat with</label>
      <div className="row">
        <input
          id="new-chat-address"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          placeholder="0x… address"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'new-chat-error' : undefined}
        />
        <button type="submit">Chat</button>
      </div>
      {error && (
        <p id="new-chat-error" className="error-text" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
