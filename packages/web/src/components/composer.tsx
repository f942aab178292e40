/** The message box: Enter sends, Shift+Enter adds a line. */
import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react'

type Props = { onSend: (text: string) => Promise<unknown>; disabled?: boolean; warning?: string | undefined }

export function Composer({ onSend, disabled, warning }: Props) {
  const [text, setText] = useState('')
  const [sending, setSending] = useState(false)
  const input = useRef<HTMLTextAreaElement>(null)
  const submit = async (event?: FormEvent) => {
    event?.preventDefault()
    const value = text.trim()
    if (!value || sending) return
    setSending(true)
    try {
      await onSend(value)
      setText('')
    } catch {
      // The chat view shows the error; the text stays for another try.
    } finally {
      setSending(false)
      input.current?.focus()
    }
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) void submit(event)
  }
  return (
    <form className="composer" onSubmit={submit}>
      {warning && (
        <p className="warning-text" id="composer-warning">
          {warning}
        </p>
      )}
      <div className="row">
        <label htmlFor="message-input" className="sr-only">
          Message
        </label>
        <textarea
          id="message-input"
          ref={input}
          rows={1}
          value={text}
          placeholder="Write a message"
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          disabled={disabled}
          aria-describedby={warning ? 'composer-warning' : undefined}
        />
        <button type="submit" className="primary" disabled={disabled || sending || !text.trim()}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
    </form>
  )
}
